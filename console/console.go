// Package console serves Herald's web console ("Notification Manage") and its GraphQL playground,
// embedded in the binary and talking only to the GraphQL API at /query. The console is hand-written
// HTML, CSS and JavaScript modules with no build step, so what is embedded is exactly what was
// reviewed; the playground is GraphiQL, whose published build static/vendor holds verbatim (see
// vendor/sync.sh), so that it works where nothing but Herald can be reached.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// AssetPrefix is the URL path under which the console's scripts, styles and icons are served;
// index.html itself is served at "/", and playground.html at PlaygroundPath.
const AssetPrefix = "/console/"

// PlaygroundPath serves the GraphQL playground; server.go mounts it only while introspection is on.
const PlaygroundPath = "/playground"

// contentTypes is fixed here rather than taken from package mime, whose answer depends on the
// host's /etc/mime.types; a browser refuses an ES module served with the wrong type.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// securityHeaders go on every response. The policy allows only this origin: the console loads
// nothing from elsewhere and talks only to /query, so an injected script or style could do nothing.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src data:; " +
		"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves index.html at "/", playground.html at PlaygroundPath and the other embedded
// files under AssetPrefix; any other path is 404. Mount it for "GET /{$}" and "GET /console/",
// and for "GET /playground" where the playground is wanted.
func Handler() http.Handler {
	assets, err := load()
	if err != nil {
		panic(err) // the embedded files are part of the binary: failing here is a build defect
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := ""
		switch {
		case r.URL.Path == "/":
			name = "index.html"
		case r.URL.Path == PlaygroundPath:
			name = "playground.html"
		case strings.HasPrefix(r.URL.Path, AssetPrefix) && path.Ext(r.URL.Path) != ".html":
			name = strings.TrimPrefix(r.URL.Path, AssetPrefix)
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		h.Set("Content-Type", a.contentType)
		// File names carry no version, so every file is revalidated; the ETag makes that a 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}

// load reads every embedded file once, so a request costs a map lookup.
func load() (map[string]asset, error) {
	root, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	assets := map[string]asset{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("console: embedded file %s has no known content type", name)
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		assets[name] = asset{body: body, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	return assets, err
}
