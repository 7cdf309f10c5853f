//go:build !unix

package store

import (
	"errors"
	"os"
)

// lockFile needs flock(2); without it no process can judge another's
// presence, and the work of a dead process waits for its leases.
func lockFile(string, bool) (*os.File, bool, error) { return nil, false, errors.ErrUnsupported }
