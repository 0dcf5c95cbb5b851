// Types of graph.js (nbflow's shared graph renderer) for the JupyterLab extension,
// which imports it from labextension/src. See graph.js's header for the behaviour.

/** What the renderer knows of a drawn node. */
export interface NodeInfo {
  label?: string;
  state?: string;
}

export interface GraphViewOptions {
  /** A node (or, with null, the background) was clicked. */
  onSelect?: (nodeId: string | null, info: NodeInfo) => void;
  /** A group node was double-clicked. */
  onExpand?: (groupId: string) => void;
  /** {state: words} for hover texts. */
  words?: Record<string, string>;
  /** {state: words} shown above the drawing. */
  legend?: Record<string, string>;
  /** The drawing's largest height in px (null: the container's CSS decides). */
  maxHeight?: number | null;
  /** Where the zoom buttons go (default: the container, first). */
  toolbar?: HTMLElement;
}

export interface GraphView {
  viewport: HTMLElement;
  toolbar: HTMLElement;
  draw(svgText: string): void;
  setStates(states: Record<string, string>): void;
  setShares(shares: Record<string, Record<string, number>>): void;
  select(nodeId: string | null): void;
  setLegend(legend: Record<string, string>): void;
  setWords(words: Record<string, string>): void;
  fit(): void;
  zoom(factor: number): void;
  known(nodeId: string): NodeInfo | null;
  has(nodeId: string): boolean;
  isGroup(nodeId: string): boolean;
  stateOf(nodeId: string): string | undefined;
  nodeIds(): string[];
  destroy(): void;
}

export function createGraphView(
  container: HTMLElement,
  options?: GraphViewOptions
): GraphView;

export function countsText(
  counts: Record<string, number> | null | undefined,
  words: Record<string, string>
): string;
