//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockFile opens the file at path (creating it when create is set) and
// takes an exclusive flock on it without waiting. ok is false when
// another open file holds the lock, in this process or another.
func lockFile(path string, create bool) (f *os.File, ok bool, err error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err = os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	// A process that found the file unlocked may have removed it
	// between the open and the lock; a lock on a removed file marks
	// nothing, so it counts as taken.
	fi, ferr := f.Stat()
	pi, perr := os.Stat(path)
	if ferr != nil || perr != nil || !os.SameFile(fi, pi) {
		_ = f.Close()
		return nil, false, nil
	}
	return f, true, nil
}
