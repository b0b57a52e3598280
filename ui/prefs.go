package ui

import (
	"encoding/json"
	"slices"

	"fyne.io/fyne/v2"

	"climxai/inference"
)

// Preference keys (Fyne's preferences store of the app ID, kept between runs).
const (
	prefDevice  = "device"            // "auto", "cpu", "cuda", "cuda:N"
	prefThreads = "threads"           // intra-op threads, 0 = one per core
	prefScale   = "colour_scale"      // "auto", "diverging", "sequential"
	prefRecent  = "recent_workspaces" // JSON [card, data, more data...] lists, newest first
	prefRecentS = "recent_sessions"   // session files, newest first
)

// maxRecent is the length of each recent-files list.
const maxRecent = 8

// scales are the colour scales the preferences offer (plots.Spec's Scale values).
var scales = []string{"auto", "diverging", "sequential"}

// prefs reads and writes climxai's preferences; a nil store (no app) gives the defaults.
type prefs struct{ p fyne.Preferences }

// scale is the colour scale of maps and figures: auto (diverging RdBu for signed fields,
// sequential viridis for magnitudes), diverging or sequential.
func (p prefs) scale() string {
	if p.p == nil {
		return "auto"
	}
	s := p.p.StringWithFallback(prefScale, "auto")
	if !slices.Contains(scales, s) {
		return "auto"
	}
	return s
}

// options are the device and threads to open workspaces with.
func (p prefs) options() inference.Options {
	if p.p == nil {
		return inference.Options{}
	}
	d, err := inference.ParseDevice(p.p.StringWithFallback(prefDevice, "auto"))
	if err != nil {
		d = inference.Device{}
	}
	return inference.Options{Device: d, Threads: max(0, p.p.Int(prefThreads))}
}

func (p prefs) setOptions(o inference.Options, scale string) {
	if p.p == nil {
		return
	}
	p.p.SetString(prefDevice, o.Device.String())
	p.p.SetInt(prefThreads, o.Threads)
	p.p.SetString(prefScale, scale)
}

// recentWorkspace is an entry of the recent list: a card and its data files.
type recentWorkspace struct {
	Card string
	Data []string
}

// recent are the recently opened cards with their data files, newest first.
func (p prefs) recent() []recentWorkspace {
	if p.p == nil {
		return nil
	}
	var out []recentWorkspace
	for _, s := range p.p.StringList(prefRecent) {
		var list []string
		if json.Unmarshal([]byte(s), &list) == nil && len(list) >= 2 && !slices.Contains(list, "") {
			out = append(out, recentWorkspace{Card: list[0], Data: list[1:]})
		}
	}
	return out
}

// addRecent puts card and data first in the recent list.
func (p prefs) addRecent(card string, data []string) {
	if p.p == nil {
		return
	}
	b, _ := json.Marshal(append([]string{card}, data...))
	p.p.SetStringList(prefRecent, pushFront(p.p.StringList(prefRecent), string(b)))
}

// recentSessions are the recently saved or opened session files, newest first.
func (p prefs) recentSessions() []string {
	if p.p == nil {
		return nil
	}
	return p.p.StringList(prefRecentS)
}

func (p prefs) addRecentSession(path string) {
	if p.p != nil {
		p.p.SetStringList(prefRecentS, pushFront(p.p.StringList(prefRecentS), path))
	}
}

// pushFront puts s first in list, without duplicates, at most maxRecent long.
func pushFront(list []string, s string) []string {
	out := []string{s}
	for _, x := range list {
		if x != s && len(out) < maxRecent {
			out = append(out, x)
		}
	}
	return out
}
