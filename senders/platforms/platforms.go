// Package platforms is the one list of the platforms Herald speaks. A new platform is a package
// under senders/ that exports a senders.Descriptor, and a line in All.
package platforms

import (
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/dingtalk"
	"github.com/heraldhq/herald/senders/lark"
	"github.com/heraldhq/herald/senders/wecom"
)

// All returns the descriptors of every platform, in the order the console lists them.
func All() []senders.Descriptor {
	return []senders.Descriptor{
		dingtalk.Descriptor,
		wecom.Descriptor,
		lark.Descriptor,
	}
}

// Registry is the registry of All: server.go builds the guard and the notifier on it, and tests
// recognise webhook URLs with it.
var Registry = func() *senders.Registry {
	r, err := senders.NewRegistry(All()...)
	if err != nil {
		panic(err) // the list above is fixed; a duplicate in it is a programming error
	}
	return r
}()
