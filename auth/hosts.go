package auth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
)

// CodeHostNotAllowed is the extensions.code of a request refused for its Host header.
const CodeHostNotAllowed = "HOST_NOT_ALLOWED"

// HostPolicy decides which Host headers Herald answers to. It is the defence against DNS
// rebinding: a web page can make its own name resolve to 127.0.0.1, and the browser then treats
// Herald as that page's origin, but it still sends the page's name in Host. In open mode, where
// every caller is an admin, only loopback names are served; with tokens, HERALD_ALLOWED_HOSTS
// narrows what is served for operators who want it.
type HostPolicy struct {
	// loopbackOnly: open mode, where a loopback name with the listen port is required unless
	// the name is listed.
	loopbackOnly bool
	listenPort   string
	anyHost      bool
	exact        map[string]bool // "name" (any port) or "name:port"
	suffixes     []string        // ".example.com" from "*.example.com"
	refusedOnce  sync.Once
}

// NewHostPolicy builds the policy for a server listening on listen. open is whether it may serve
// open mode; allowed is HERALD_ALLOWED_HOSTS (empty: any host, or in open mode loopback only).
func NewHostPolicy(open bool, listen net.Addr, allowed []string) (*HostPolicy, error) {
	p := &HostPolicy{loopbackOnly: open, exact: map[string]bool{}}
	if tcp, ok := listen.(*net.TCPAddr); ok {
		p.listenPort = fmt.Sprint(tcp.Port)
	}
	if len(allowed) == 0 {
		p.anyHost = !open
		return p, nil
	}
	for _, entry := range allowed {
		entry = strings.ToLower(strings.TrimSpace(entry))
		switch {
		case entry == "*" && open:
			return nil, fmt.Errorf("* would answer every Host in open mode, where every caller is an admin, and let a web page that rebinds its name to this machine act as one; list names, or set HERALD_ADMIN_TOKEN")
		case entry == "*":
			p.anyHost = true
		case strings.HasPrefix(entry, "*."):
			domain := strings.TrimSuffix(entry[2:], ".")
			if !validHostName(domain) {
				return nil, fmt.Errorf("%q is not a host name pattern such as *.example.com (a pattern matches any port)", entry)
			}
			p.suffixes = append(p.suffixes, "."+domain)
		default:
			host, port := entry, ""
			if net.ParseIP(entry) == nil { // an unbracketed IPv6 address has no port
				var err error
				if host, port, err = splitHost(entry); err != nil {
					return nil, fmt.Errorf("%q is not a host name, host:port or *.domain", entry)
				}
			}
			host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
			if net.ParseIP(host) == nil && !validHostName(host) {
				return nil, fmt.Errorf("%q is not a host name, host:port or *.domain", entry)
			}
			if port != "" {
				host = net.JoinHostPort(host, port)
			}
			p.exact[host] = true
		}
	}
	return p, nil
}

// splitHost splits "name", "name:port", "[::1]" or "[::1]:port"; port is "" when absent.
func splitHost(hostport string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p, nil
	}
	bracketed := strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]")
	if strings.HasPrefix(hostport, "[") != bracketed || strings.Contains(hostport, ":") && !bracketed {
		return "", "", fmt.Errorf("%q: a port must follow a name or a bracketed IPv6 address", hostport)
	}
	return strings.Trim(hostport, "[]"), "", nil
}

func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range s {
		// '_' appears in container and service names (Docker Compose), which resolve like hosts.
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Allows reports whether a request carrying the Host header hostHeader is served.
func (p *HostPolicy) Allows(hostHeader string) bool {
	if p.anyHost {
		return true
	}
	host, port, err := splitHost(strings.ToLower(hostHeader))
	if err != nil || host == "" {
		return false
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if port == "" {
		port = "80" // Herald serves plain HTTP; a browser omits only the default port
	}
	if isLoopbackName(host) && (port == p.listenPort || !p.loopbackOnly) {
		return true
	}
	if p.exact[host] || p.exact[net.JoinHostPort(host, port)] {
		return true
	}
	for _, suffix := range p.suffixes {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// isLoopbackName: "localhost" or a loopback IP literal. Neither can be rebound: a page can only
// send its own name in Host, and no page is served from a loopback literal but this machine's.
func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Middleware refuses requests whose Host the policy does not allow with 421 Misdirected Request
// and a message saying what is served; the GraphQL and metrics endpoints get it as a GraphQL
// error. exempt paths (health probes, which reveal nothing) are always served.
func (p *HostPolicy) Middleware(next http.Handler, exempt ...string) http.Handler {
	if p == nil || p.anyHost {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Allows(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		for _, path := range exempt {
			// An entry ending in / exempts everything below it.
			if r.URL.Path == path || (strings.HasSuffix(path, "/") && strings.HasPrefix(r.URL.Path, path)) {
				next.ServeHTTP(w, r)
				return
			}
		}
		msg := p.refusal(r.Host)
		p.refusedOnce.Do(func() {
			slog.WarnContext(r.Context(), "refusing a request for a Host this server does not answer to; later refusals are not logged",
				"host", r.Host, "remote", r.RemoteAddr)
		})
		if r.URL.Path == "/query" || r.URL.Path == "/metrics" {
			WriteError(w, http.StatusMisdirectedRequest, CodeHostNotAllowed, msg)
			return
		}
		http.Error(w, msg, http.StatusMisdirectedRequest)
	})
}

func (p *HostPolicy) refusal(host string) string {
	if p.loopbackOnly {
		return fmt.Sprintf("Host %q is not served: this Herald may run in open mode (no HERALD_ADMIN_TOKEN, a loopback address), where every caller is an admin, so it answers only to "+
			"localhost, 127.0.0.1 and [::1] on port %s (a web page could otherwise point its own name at this machine and act as admin); "+
			"open http://localhost:%s/, list the name in HERALD_ALLOWED_HOSTS, or set HERALD_ADMIN_TOKEN", host, p.listenPort, p.listenPort)
	}
	return fmt.Sprintf("Host %q is not served: it is not in HERALD_ALLOWED_HOSTS", host)
}
