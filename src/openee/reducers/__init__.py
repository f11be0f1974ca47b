"""Reducers defined once: every reducer's spec (outputs, inputs, the contexts that run it) in
`openee.reducers.registry`, and the one implementation of the order statistics (median,
percentile, mode) in `openee.reducers.order`. The `Reducer` value itself is in
`openee.values.reducer`; contexts (collections, neighbourhoods, regions, arrays, lists) ask the
registry whether a reducer runs there, and it refuses with a message naming both."""
