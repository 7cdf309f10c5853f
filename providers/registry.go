package providers

import (
	"fmt"
	"sort"
)

// Registry holds the providers this build ships. It is built once in main
// and is read-only afterwards, so it needs no locking.
type Registry struct {
	byID map[string]Provider
	all  []Provider
}

// NewRegistry returns a registry of ps sorted by ID. Two providers with the
// same ID are a programming error and reported as such.
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byID: make(map[string]Provider, len(ps))}
	for _, p := range ps {
		if p == nil || p.ID() == "" {
			return nil, fmt.Errorf("providers: provider without an id")
		}
		if _, dup := r.byID[p.ID()]; dup {
			return nil, fmt.Errorf("providers: duplicate provider id %q", p.ID())
		}
		r.byID[p.ID()] = p
		r.all = append(r.all, p)
	}
	sort.Slice(r.all, func(i, j int) bool { return r.all[i].ID() < r.all[j].ID() })
	return r, nil
}

// Get returns the provider with the given ID.
func (r *Registry) Get(id string) (Provider, bool) {
	p, ok := r.byID[id]
	return p, ok
}

// All returns every provider sorted by ID. The slice must not be modified.
func (r *Registry) All() []Provider { return r.all }

// CapabilitiesOf reports what p can do. Each capability is an optional
// interface that a provider's transport implements, so a provider whose
// transport has not been written reports false, and the API can never
// claim more than the code does. Commands, transcripts and listening
// arrive with their own interfaces.
func CapabilitiesOf(p Provider) Capabilities {
	var c Capabilities
	_, c.Notify = p.(Notifier)
	_, c.Threads = p.(Threader)
	_, c.Edits = p.(Editor)
	_, c.ChannelCheck = p.(ChannelTester)
	return c
}
