package models

// SetMaxUnionGroups changes how many groups FirstMembersByGroup reads with a UNION ALL, and returns
// the function that puts it back.
func SetMaxUnionGroups(n int) (restore func()) {
	was := maxUnionGroups
	maxUnionGroups = n
	return func() { maxUnionGroups = was }
}
