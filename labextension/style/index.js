import '../../nbflow/static/graph.css';
import './base.css';
