package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/server"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad arguments or configuration; nothing was done
)

// cli is what a command runs with: the process's streams and environment,
// the loaded configuration and the logger. Everything a command touches
// comes from here, so run can be tested in-process.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// cfg and log are nil for commands that take no configuration.
	cfg *config.Config
	log *slog.Logger
	// args are the positional arguments after the flags.
	args []string
}

// runFunc is a command's body.
type runFunc func(ctx context.Context, c *cli) error

// command is one subcommand. define registers the command's own flags on
// fs and returns the body, which reads them through its closure.
type command struct {
	synopsis string // arguments after the command name, for usage
	summary  string
	noConfig bool // version and help need no configuration
	define   func(fs *flag.FlagSet) runFunc
}

// commands is the command table; a function rather than a package variable
// so there is no global state.
func commands() map[string]command {
	return map[string]command{
		"serve": {
			summary: "run the HTTP server (admin API, playground, health probes)",
			define:  defineServe,
		},
		"migrate": {
			summary: "apply database schema migrations and exit",
			define:  defineMigrate,
		},
		"apply": {
			synopsis: "-f FILE [--prune] [--dry-run] [--server URL [--api-key KEY]]",
			summary:  "make providers, channels and rules match a YAML document (- reads stdin)",
			define:   defineApply,
		},
		"export": {
			synopsis: "[--include-secrets] [-o FILE] [--server URL [--api-key KEY]]",
			summary:  "print the configuration as a YAML document that apply accepts",
			define:   defineExport,
		},
		"apikey": {
			synopsis: "create NAME | list | revoke ID",
			summary:  "manage admin API keys (stored hashed; a new key is shown once)",
			define:   defineAPIKey,
		},
		"version": {
			summary:  "print the version",
			noConfig: true,
			define:   defineVersion,
		},
		"help": {
			synopsis: "[COMMAND]",
			summary:  "show this help, or a command's flags",
			noConfig: true,
			define:   nil, // handled in run: it needs the command table
		},
	}
}

// usageError is a mistake in the command line; run exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run is the whole program behind main: it parses args, runs one command
// and returns the exit code. It reads the environment only through getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		printUsage(stderr, cmds)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	if name == "help" {
		return runHelp(rest, stdout, stderr, cmds)
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "chatsidecar: unknown command %q\n\n", name)
		printUsage(stderr, cmds)
		return exitUsage
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	err := runCommand(ctx, name, cmd, rest, c)
	return report(stderr, name, err)
}

// runCommand separates the command's own flags from the configuration
// flags, loads the configuration and runs the command. The two flag sets
// are kept apart because config.Load owns the configuration flags, and so
// `apply -f x.yaml --prune` and `serve --listen 127.0.0.1:9090` both work,
// in any order.
func runCommand(ctx context.Context, name string, cmd command, args []string, c *cli) error {
	fs := flag.NewFlagSet("chatsidecar "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, once
	body := cmd.define(fs)
	own, cfgArgs, positional, help := splitArgs(fs, args)
	if help {
		printCommandUsage(c.stdout, name, cmd, fs)
		return nil
	}
	if err := fs.Parse(own); err != nil {
		return usagef("%v", err)
	}
	if cmd.noConfig {
		if len(cfgArgs) > 0 {
			return usagef("unknown flag %s", cfgArgs[0])
		}
	} else {
		cfg, left, err := config.Load("chatsidecar "+name, cfgArgs, c.getenv, io.Discard)
		var ce *config.Error
		if errors.As(err, &ce) {
			return err
		}
		if err != nil {
			return usagef("%v", err)
		}
		positional = append(positional, left...)
		c.cfg = cfg
		c.log = server.NewLogger(c.stderr, cfg.LogLevel, cfg.LogFormat)
	}
	c.args = positional
	return body(ctx, c)
}

// splitArgs sorts args into the command's own flags (those defined on fs),
// configuration flags (any other flag) and positional arguments. Every
// configuration flag takes a value (config defines them all as strings),
// so `--listen 127.0.0.1:9090` consumes the next argument; the command's
// boolean flags do not. Everything after "--" is positional. help reports
// -h or --help.
func splitArgs(fs *flag.FlagSet, args []string) (own, cfg, positional []string, help bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a) // includes "-", meaning stdin
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "h" || name == "help" {
			help = true
			continue
		}
		if f := fs.Lookup(name); f != nil {
			own = append(own, a)
			if !hasValue && !isBoolFlag(f) && i+1 < len(args) {
				i++
				own = append(own, args[i])
			}
			continue
		}
		cfg = append(cfg, a)
		if !hasValue && i+1 < len(args) {
			i++
			cfg = append(cfg, args[i])
		}
	}
	return own, cfg, positional, help
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// report prints err for the user and returns the exit code.
func report(stderr io.Writer, name string, err error) int {
	var (
		ce  *config.Error
		ue  *usageError
		doc *admin.DocumentError
		re  *remoteError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "chatsidecar: invalid configuration: %s\n", ce.Error())
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "chatsidecar %s: %s\nRun 'chatsidecar help %s' for usage.\n", name, ue.msg, name)
		return exitUsage
	case errors.As(err, &doc):
		printProblems(stderr, doc)
		return exitFailure
	case errors.As(err, &re):
		printRemoteErrors(stderr, re)
		return exitFailure
	default:
		fmt.Fprintf(stderr, "chatsidecar %s: %v\n", name, err)
		return exitFailure
	}
}

// printProblems lists every problem of a rejected document.
func printProblems(w io.Writer, doc *admin.DocumentError) {
	fmt.Fprintf(w, "chatsidecar: the document has %d problem%s; nothing was changed:\n", len(doc.Problems), plural(len(doc.Problems)))
	for _, p := range doc.Problems {
		fmt.Fprintf(w, "  %s\n", p.String())
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runHelp(args []string, stdout, stderr io.Writer, cmds map[string]command) int {
	if len(args) == 0 {
		printUsage(stdout, cmds)
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok || cmd.define == nil {
		if ok {
			printUsage(stdout, cmds)
			return exitOK
		}
		fmt.Fprintf(stderr, "chatsidecar help: unknown command %q\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("chatsidecar "+args[0], flag.ContinueOnError)
	cmd.define(fs)
	printCommandUsage(stdout, args[0], cmd, fs)
	return exitOK
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Usage: chatsidecar COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command that reads the configuration takes these variables, each")
	fmt.Fprintln(w, "also a flag (a flag wins over its variable):")
	config.Usage(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'chatsidecar help COMMAND' for a command's own flags.")
}

func printCommandUsage(w io.Writer, name string, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: chatsidecar %s %s\n\n%s\n", name, cmd.synopsis, cmd.summary)
	var hasFlags bool
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if !cmd.noConfig {
		fmt.Fprintln(w, "\nConfiguration (environment variable, flag):")
		config.Usage(w)
	}
}
