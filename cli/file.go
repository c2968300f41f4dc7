package cli

import (
	"time"
)

// File is what herald apply reads and herald export writes: the whole notification setup of some
// namespaces. Names identify objects (ignoring letter case, as the server compares them), so a file
// carries no ids and applies to any server. Enum values are written as the GraphQL schema spells
// them and read in any letter case.
type File struct {
	Namespaces []Namespace `yaml:"namespaces"`
}

// Namespace is one namespace and everything in it. apply leaves alone the namespaces a file does
// not name, so each team may keep its own file.
type Namespace struct {
	Name         string        `yaml:"name"`
	Description  string        `yaml:"description,omitempty"`
	Contacts     []Contact     `yaml:"contacts,omitempty"`
	Groups       []Group       `yaml:"groups,omitempty"`
	Templates    []Template    `yaml:"templates,omitempty"`
	Integrations []Integration `yaml:"integrations,omitempty"`
	Routes       []Route       `yaml:"routes,omitempty"`
	Silences     []Silence     `yaml:"silences,omitempty"`
}

// Contact is a recipient with its webhooks. Its groups are given by the groups' members, in one
// place only.
type Contact struct {
	Name           string    `yaml:"name"`
	Phone          string    `yaml:"phone,omitempty"`
	DingtalkUserID string    `yaml:"dingtalkUserId,omitempty"`
	WecomUserID    string    `yaml:"wecomUserId,omitempty"`
	LarkUserID     string    `yaml:"larkUserId,omitempty"`
	Webhooks       []Webhook `yaml:"webhooks"`
}

// Webhook is one robot of a contact. URL and Secret normally hold ${ENV} references: the robot's
// token and signing secret are credentials.
type Webhook struct {
	URL      string `yaml:"url"`
	Platform string `yaml:"platform,omitempty"`
	Secret   string `yaml:"secret,omitempty"`
	Keyword  string `yaml:"keyword,omitempty"`
}

// Group is a set of contacts, by name, with its quiet hours.
type Group struct {
	Name        string       `yaml:"name"`
	Description string       `yaml:"description,omitempty"`
	Members     []string     `yaml:"members,omitempty"`
	QuietHours  []TimeWindow `yaml:"quietHours,omitempty"`
	QuietPolicy string       `yaml:"quietPolicy,omitempty"`
}

// TimeWindow is a span of wall-clock time on some weekdays (1 Monday ... 7 Sunday).
type TimeWindow struct {
	Weekdays []int  `yaml:"weekdays,flow,omitempty"`
	Start    string `yaml:"start"`
	End      string `yaml:"end"`
	TimeZone string `yaml:"timeZone,omitempty"`
}

// Template is a message template of the namespace.
type Template struct {
	Name   string `yaml:"name"`
	Format string `yaml:"format,omitempty"`
	Title  string `yaml:"title"`
	Body   string `yaml:"body"`
}

// Integration is an alert source. Its hook token is never in a file: apply prints it once when it
// creates the integration.
type Integration struct {
	Name            string   `yaml:"name"`
	Kind            string   `yaml:"kind"`
	Groups          []string `yaml:"groups,omitempty"`
	Contacts        []string `yaml:"contacts,omitempty"`
	SendResolved    *bool    `yaml:"sendResolved,omitempty"`
	MentionContacts bool     `yaml:"mentionContacts,omitempty"`
	RouteByLabels   bool     `yaml:"routeByLabels,omitempty"`
	SigningSecret   string   `yaml:"signingSecret,omitempty"`
	TimeZone        string   `yaml:"timeZone,omitempty"`
	Template        string   `yaml:"template,omitempty"`
}

// Route sends the alerts whose labels match to its recipients; routes are tried in file order.
type Route struct {
	Name     string    `yaml:"name"`
	Matchers []Matcher `yaml:"matchers,omitempty"`
	Groups   []string  `yaml:"groups,omitempty"`
	Contacts []string  `yaml:"contacts,omitempty"`
	Continue bool      `yaml:"continue,omitempty"`
	Template string    `yaml:"template,omitempty"`
}

// Matcher tests one label: op is EQ, NEQ, REGEX or NOT_REGEX.
type Matcher struct {
	Label string `yaml:"label"`
	Op    string `yaml:"op"`
	Value string `yaml:"value"`
}

// Silence mutes matching alerts until EndsAt. Silences have no name: one is the same as another
// with the same matchers, end and comment. A silence that has ended is skipped.
type Silence struct {
	Matchers []Matcher  `yaml:"matchers"`
	StartsAt *time.Time `yaml:"startsAt,omitempty"`
	EndsAt   time.Time  `yaml:"endsAt"`
	Comment  string     `yaml:"comment"`
}
