package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// latencyChart draws p95 latency at concurrency 1 against data-set scale, one panel per backend,
// one colour per read operation: Herald solid, the floor dashed. Both axes are logarithmic, so a
// flat line is a cost that does not grow with the data and equal slopes are equal growth factors.
// Of several runs at one scale (-history), the one with the smallest history is drawn.
func latencyChart(runs []*Run) string {
	runs = slices.DeleteFunc(slices.Clone(runs), func(r *Run) bool { return findRun(runs, r.Backend, r.Scale) != r })
	const (
		panelW, panelH = 460.0, 320.0
		left, right    = 60.0, 20.0
		top, bottom    = 40.0, 50.0
		legendH        = 90.0
	)
	var backends []string
	var scales []int
	type key struct{ backend, op, side string }
	points := map[key]map[int]float64{}
	var ops []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		if !slices.Contains(backends, r.Backend) {
			backends = append(backends, r.Backend)
		}
		if !slices.Contains(scales, r.Scale) {
			scales = append(scales, r.Scale)
		}
		for _, o := range r.Ops {
			c := o.cell(1)
			if !o.Read || c == nil {
				continue
			}
			if !slices.Contains(ops, o.Op) {
				ops = append(ops, o.Op)
			}
			add := func(side string, v float64) {
				if v <= 0 {
					return
				}
				k := key{r.Backend, o.Op, side}
				if points[k] == nil {
					points[k] = map[int]float64{}
				}
				points[k][r.Scale] = v
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			add("herald", c.Herald.P95)
			if c.Floor != nil {
				add("floor", c.Floor.P95)
			}
		}
	}
	slices.Sort(scales)
	width := math.Max(1, float64(len(backends))) * panelW
	height := panelH + legendH
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	sb.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	if len(points) == 0 {
		sb.WriteString(`<text x="20" y="40">no read operation was measured at concurrency 1</text>` + "\n</svg>\n")
		return sb.String()
	}
	// y range: whole decades around the data, so the ticks are round numbers.
	yLo, yHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yHi == yLo {
		yHi++
	}
	xLo, xHi := math.Log10(float64(scales[0])), math.Log10(float64(scales[len(scales)-1]))
	colours := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"}
	for bi, b := range backends {
		x0 := float64(bi) * panelW
		plotW, plotH := panelW-left-right, panelH-top-bottom
		px := func(scale int) float64 {
			if xHi == xLo {
				return x0 + left + plotW/2
			}
			return x0 + left + (math.Log10(float64(scale))-xLo)/(xHi-xLo)*plotW
		}
		py := func(v float64) float64 { return top + (yHi-math.Log10(v))/(yHi-yLo)*plotH }
		fmt.Fprintf(&sb, `<text x="%.1f" y="22" font-size="14" font-weight="bold">%s: p95 latency at concurrency 1 (ms, log)</text>`+"\n", x0+left, html.EscapeString(b))
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", x0+left, top, plotW, plotH)
		for d := yLo; d <= yHi; d++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, d)
				if math.Log10(v) > yHi+1e-9 {
					continue
				}
				y := py(v)
				stroke := "#eee"
				if m == 1 {
					stroke = "#ccc"
				}
				fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x0+left, y, x0+left+plotW, y, stroke)
				fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0+left-6, y+4, trimFloat(v))
			}
		}
		for _, s := range scales {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(s), top+plotH+18, scaleName(s))
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">contacts</text>`+"\n", x0+left+plotW/2, top+plotH+36)
		for oi, op := range ops {
			colour := colours[oi%len(colours)]
			for _, side := range []string{"herald", "floor"} {
				pts := points[key{b, op, side}]
				if len(pts) == 0 {
					continue
				}
				var coords []string
				for _, s := range scales {
					if v, ok := pts[s]; ok {
						coords = append(coords, fmt.Sprintf("%.1f,%.1f", px(s), py(v)))
					}
				}
				dash := ""
				if side == "floor" {
					dash = ` stroke-dasharray="5,4"`
				}
				fmt.Fprintf(&sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(coords, " "), colour, dash)
				for _, c := range coords {
					xy := strings.Split(c, ",")
					fill := colour
					if side == "floor" {
						fill = "white"
					}
					fmt.Fprintf(&sb, `<circle cx="%s" cy="%s" r="3.5" fill="%s" stroke="%s"/>`+"\n", xy[0], xy[1], fill, colour)
				}
			}
		}
	}
	ly := panelH + 10
	for oi, op := range ops {
		x := left + float64(oi%4)*180
		y := ly + float64(oi/4)*20
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", x, y, x+24, y, colours[oi%len(colours)])
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x+30, y+4, html.EscapeString(op))
	}
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" fill="#555">solid, filled: Herald; dashed, hollow: raw-SQL floor</text>`+"\n", left, ly+float64((len(ops)+3)/4)*20+10)
	sb.WriteString("</svg>\n")
	return sb.String()
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
