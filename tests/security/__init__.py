"""Red-team classes (issue 13): writes, output, evidence limits, bundles; each test named after its attack."""
