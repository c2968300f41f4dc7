package models

// Role is what a token may do; the values match the GraphQL enum. Each role includes the ones below it.
type Role string

const (
	// RoleViewer may run every query; webhook URLs are shown masked.
	RoleViewer Role = "VIEWER"
	// RoleSender may also send alerts and test messages: what an integrator needs.
	RoleSender Role = "SENDER"
	// RoleAdmin may do everything and sees full URLs.
	RoleAdmin Role = "ADMIN"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleSender:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a holder of r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && r.Valid() }
