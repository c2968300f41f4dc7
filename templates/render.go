package templates

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
)

// Render renders d with t, within the bounds (MaxDuration for all of it). A body over maxBody
// bytes is rendered again with fewer of the notification's alerts, Omitted saying how many are
// left out, so that a big group still makes a message; the title always sees every alert.
func (t *Template) Render(d *Data, maxBody int) (Output, error) {
	out, err := t.render(d, maxBody, MaxDuration, false)
	if errors.Is(err, ErrBound) && strings.HasSuffix(err.Error(), "its time") {
		err = fmt.Errorf("%w (%s)", err, MaxDuration)
	}
	return out, err
}

// MaxBuiltinDuration bounds a built-in layout, which is Herald's own tested code: only a bug could
// reach it. A group of thousands of alerts takes it several renders to fit (tens of milliseconds).
const MaxBuiltinDuration = 10 * time.Second

// Render renders d with the built-in layout. It is the default layout, so it never fails for
// size: one alert too long for maxBody alone (a description of 100 KB) is cut, with the marker.
func (b Builtin) Render(d *Data, maxBody int) (Output, error) {
	return b.Template.render(d, maxBody, MaxBuiltinDuration, true)
}

func (t *Template) render(d *Data, maxBody int, bound time.Duration, cut bool) (Output, error) {
	deadline := time.Now().Add(bound)
	full, err := t.execute(d, deadline)
	switch {
	case err == nil && len(full.Body) <= maxBody:
		return checked(full)
	case err != nil && !errors.Is(err, errOutputLimit):
		return Output{}, err
	case len(d.Alerts) <= 1 && cut:
		return t.cutToFit(d, maxBody, deadline)
	case len(d.Alerts) <= 1:
		if err == nil {
			err = fmt.Errorf("body: %w: more than %d bytes", ErrBound, maxBody)
		}
		return Output{}, err
	}
	// Halve the alerts shown until the body fits: the output bound stops a render early, so the
	// size of the whole cannot guide a proportional cut.
	shrunk := *d
	shown := len(d.Alerts)
	for shown > 1 || (shown == 1 && !cut) {
		shown /= 2
		shrunk.Alerts = d.Alerts[:shown]
		shrunk.Omitted = d.Omitted + len(d.Alerts) - shown
		out, err := t.execute(&shrunk, deadline)
		if err == nil && len(out.Body) <= maxBody {
			// The title is rendered first, so the full render kept it: it counts every alert.
			out.Title = full.Title
			return checked(out)
		}
		if err != nil && !errors.Is(err, errOutputLimit) {
			return Output{}, err
		}
	}
	if cut {
		shrunk.Alerts, shrunk.Omitted = d.Alerts[:1], d.Omitted+len(d.Alerts)-1
		return t.cutToFit(&shrunk, maxBody, deadline)
	}
	return Output{}, fmt.Errorf("body: %w: more than %d bytes even without alerts", ErrBound, maxBody)
}

// cutToFit renders d into a body of up to twice maxBody and cuts it to maxBody with the truncation
// marker, so that what fits of one huge alert is sent.
func (t *Template) cutToFit(d *Data, maxBody int, deadline time.Time) (Output, error) {
	r, err := t.clone(deadline)
	if err != nil {
		return Output{}, err
	}
	defer t.done(r)
	title := &limitedBuffer{limit: MaxTitleBytes}
	if err := r.set.ExecuteTemplate(title, "title", d); err != nil {
		return Output{}, executionError("title", err)
	}
	body := &limitedBuffer{limit: 2 * maxBody}
	if err := r.set.ExecuteTemplate(body, "body", d); err != nil && !errors.Is(err, errOutputLimit) {
		return Output{}, executionError("body", err)
	}
	text := strings.ToValidUTF8(body.String(), "\uFFFD")
	if len(text) > maxBody {
		text, _ = senders.Truncate(text, maxBody)
	}
	return checked(Output{Title: title.String(), Body: text})
}

// checked refuses an output no message can be made of.
func checked(out Output) (Output, error) {
	if strings.TrimSpace(out.Body) == "" {
		return Output{}, errors.New("body: the template rendered nothing")
	}
	return out, nil
}
