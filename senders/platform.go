package senders

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Platform names a chat platform; the values of the registered ones match the GraphQL enum.
type Platform string

// The platforms Herald speaks. Each is described by its package's Descriptor, and package
// platforms lists them; code that needs what a platform is like asks its Registry.
const (
	DingTalk Platform = "DINGTALK"
	WeCom    Platform = "WECOM"
	Lark     Platform = "LARK"
)

// Descriptor is everything Herald knows of one platform beside its wire format. Each platform
// package exports one; adding a platform is a package and a line in package platforms.
type Descriptor struct {
	Platform Platform
	// Name is the platform as written in messages and logs ("DingTalk").
	Name string
	// Label is the platform as the console shows it.
	Label string
	// Hosts are the hosts the platform publishes for its webhooks: the only destinations reachable
	// without an allow-list entry, and proof of the platform.
	Hosts []string
	// WebhookPath and TokenParam recognise the platform's webhook on a host that is not official
	// (relays commonly mount the platform's path under a prefix of their own). With a TokenParam,
	// the token is that query parameter and the path ends with WebhookPath; without one, the token
	// is the one path segment that follows WebhookPath.
	WebhookPath string
	TokenParam  string
	// Windows are the platform's documented rate limits for one robot.
	Windows []Window
	// MaxBodyBytes is the largest message the platform takes; longer content is cut to fit.
	MaxBodyBytes int
	// Mentions says how a message mentions people on the platform, for the console.
	Mentions string
	// CardMentions says the platform's cards can mention people; without it, a CARD that mentions
	// anyone is followed by a companion text message (Request.Companion), a second send against
	// the robot's rate budget.
	CardMentions bool
	// NewBuilder returns the platform's wire format and the reader of its answers.
	NewBuilder func(Options) Builder
}

// Options are the settings a platform's builder may take.
type Options struct {
	// Keyword is the word every DingTalk message carries for keyword security.
	Keyword string
}

// Window is one sliding-window rate limit of a robot: at most Limit messages within Span.
// Reserve is how many of them are kept back for later alerts once a burst starts coalescing.
type Window struct {
	Limit   int
	Span    time.Duration
	Reserve int
}

// Registry is the set of platforms one Herald speaks.
type Registry struct {
	list   []Descriptor
	byID   map[Platform]int
	byHost map[string]Platform
}

// NewRegistry checks and indexes descriptors; the order given is the order All returns.
func NewRegistry(ds ...Descriptor) (*Registry, error) {
	r := &Registry{byID: map[Platform]int{}, byHost: map[string]Platform{}}
	for i, d := range ds {
		if d.Platform == "" || d.Name == "" || d.NewBuilder == nil {
			return nil, fmt.Errorf("platform descriptor %d needs a Platform, a Name and a NewBuilder", i)
		}
		if _, dup := r.byID[d.Platform]; dup {
			return nil, fmt.Errorf("platform %s is registered twice", d.Platform)
		}
		r.byID[d.Platform] = i
		for _, h := range d.Hosts {
			h = strings.ToLower(h)
			if other, dup := r.byHost[h]; dup {
				return nil, fmt.Errorf("host %s is official for both %s and %s", h, other, d.Platform)
			}
			r.byHost[h] = d.Platform
		}
		r.list = append(r.list, d)
	}
	return r, nil
}

// All returns the descriptors in registration order.
func (r *Registry) All() []Descriptor { return slices.Clone(r.list) }

// Lookup returns the descriptor of p.
func (r *Registry) Lookup(p Platform) (Descriptor, bool) {
	i, ok := r.byID[p]
	if !ok {
		return Descriptor{}, false
	}
	return r.list[i], true
}

// Name is p as written in messages and logs; an unknown platform is written as it is.
func (r *Registry) Name(p Platform) string {
	if d, ok := r.Lookup(p); ok {
		return d.Name
	}
	return string(p)
}

// OfficialHost reports the platform whose official webhook host is host.
func (r *Registry) OfficialHost(host string) (Platform, bool) {
	p, ok := r.byHost[strings.TrimSuffix(strings.ToLower(host), ".")]
	return p, ok
}

// MaxURLBytes bounds a webhook URL; real ones are well under 300 bytes, and a
// bound keeps hostile input out of logs and the database.
const MaxURLBytes = 2048

// ErrUnknownPlatform is returned by Recognize when neither the host nor the
// path identifies a platform.
var ErrUnknownPlatform = errors.New("cannot tell the platform from this URL; give platform explicitly")

// Recognize returns the platform of a webhook URL: explicit wins when given,
// otherwise the official host, then the first platform whose webhook path
// and token the URL has.
//
// Recognize does not decide whether the URL may be reached; Guard does.
func (r *Registry) Recognize(rawURL string, explicit Platform) (Platform, error) {
	u, err := ParseWebhookURL(rawURL)
	if err != nil {
		return "", err
	}
	if explicit != "" {
		if _, ok := r.Lookup(explicit); !ok {
			return "", fmt.Errorf("unknown platform %q: want %s", string(explicit), r.names())
		}
		return explicit, nil
	}
	if p, ok := r.OfficialHost(u.Hostname()); ok {
		return p, nil
	}
	for _, d := range r.list {
		if d.matchesPath(u) {
			return d.Platform, nil
		}
	}
	return "", ErrUnknownPlatform
}

func (d Descriptor) matchesPath(u *url.URL) bool {
	if d.WebhookPath == "" {
		return false
	}
	if d.TokenParam != "" {
		return strings.HasSuffix(u.Path, d.WebhookPath) && u.Query().Get(d.TokenParam) != ""
	}
	_, tok, found := strings.Cut(u.Path, d.WebhookPath)
	return found && tok != "" && !strings.Contains(tok, "/")
}

// names lists the platforms for an error message: "DINGTALK, WECOM or LARK".
func (r *Registry) names() string {
	ids := make([]string, len(r.list))
	for i, d := range r.list {
		ids[i] = string(d.Platform)
	}
	if len(ids) <= 1 {
		return strings.Join(ids, "")
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " or " + ids[len(ids)-1]
}

// ParseWebhookURL does the checks every webhook URL must pass regardless of
// platform or allow-list: size, syntax, http(s), a host, no credentials.
func ParseWebhookURL(rawURL string) (*url.URL, error) {
	if len(rawURL) > MaxURLBytes {
		return nil, fmt.Errorf("webhook URL is %d bytes, longer than the %d allowed", len(rawURL), MaxURLBytes)
	}
	if rawURL == "" {
		return nil, errors.New("webhook URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, token included; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("webhook URL does not parse: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, errors.New("webhook URL has no scheme; it must start with https://")
	default:
		return nil, fmt.Errorf("webhook URL scheme %q is not allowed; only https (or http for an allow-listed host)", u.Scheme)
	}
	if u.Opaque != "" {
		return nil, errors.New("webhook URL must have the form scheme://host/path")
	}
	if u.User != nil {
		return nil, errors.New("webhook URL must not carry credentials (user:password@host)")
	}
	if u.Hostname() == "" {
		return nil, errors.New("webhook URL has no host")
	}
	return u, nil
}

// Sends is how many messages m costs the robot's rate budget on this platform: two for a card that
// mentions people where cards cannot, one otherwise.
func (d Descriptor) Sends(m Message) int {
	if m.Format == Card && m.Mentions() && !d.CardMentions {
		return 2
	}
	return 1
}

// PlaceholderURL is a webhook URL of the platform's own shape whose token is a placeholder: where
// a preview shows a message to no robot in particular.
func (d Descriptor) PlaceholderURL() string {
	host := "example.invalid"
	if len(d.Hosts) > 0 {
		host = d.Hosts[0]
	}
	u := "https://" + host + d.WebhookPath
	if d.TokenParam != "" {
		return u + "?" + d.TokenParam + "=PREVIEW"
	}
	return strings.TrimSuffix(u, "/") + "/PREVIEW"
}
