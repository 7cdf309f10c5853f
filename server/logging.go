package server

import (
	"io"
	"log/slog"
)

// NewLogger returns the process logger writing to w at level. format is
// "json" for log collectors or anything else (normally "text") for people;
// config.Load has already rejected other values.
func NewLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
