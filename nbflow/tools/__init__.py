"""Luigi's ``luigi.tools`` package: tools built on tasks (the range tools).

Imports: nothing (its modules import the core).
"""
