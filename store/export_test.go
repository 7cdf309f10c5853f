package store

// EarlierPendingSQL lets the external tests check the query plan of the
// turn check.
var EarlierPendingSQL = earlierPendingSQL
