package graph

// Handoffs is how many lists and fields the executor has handed to gqlgen's concurrent executor.
func Handoffs() int64 { return handoffs.Load() }

// SetLean turns the lean executor on or off.
func SetLean(on bool) { leanOff.Store(!on) }
