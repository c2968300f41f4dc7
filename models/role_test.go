package models

import "testing"

func TestRolesIncludeTheOnesBelow(t *testing.T) {
	cases := []struct {
		have, need Role
		ok         bool
	}{
		{RoleViewer, RoleViewer, true}, {RoleViewer, RoleSender, false}, {RoleViewer, RoleAdmin, false},
		{RoleSender, RoleViewer, true}, {RoleSender, RoleSender, true}, {RoleSender, RoleAdmin, false},
		{RoleAdmin, RoleViewer, true}, {RoleAdmin, RoleAdmin, true}, {"", RoleViewer, false}, {"ROOT", RoleViewer, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%q.Allows(%q) = %v", c.have, c.need, got)
		}
	}
}
