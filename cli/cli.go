// Package cli is berth's own client for its APIs: "berth ecr <operation>"
// and "berth ecr-public <operation>", behaving like the AWS CLI. Nothing
// is written per command: the flags, their values, the help, the
// skeletons and the printing of an answer all come from the official
// models berth embeds, for every operation berth serves.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// Exit codes, as the AWS CLI (v2) documents them.
const (
	ExitOK      = 0
	ExitUsage   = 252 // the command line cannot be parsed, lacks a required parameter, or a value fails validation
	ExitService = 254 // the service answered with an error
	ExitOther   = 255 // anything else: no connection, no credentials, paging flags with paging off
)

// Main runs one CLI command, writing to its own writers so tests can drive
// it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv when nil); the AWS SDK's
	// credential chain reads the process's own.
	Getenv func(string) string
	// HTTPClient sends the requests (the AWS SDK's default client, which
	// honours AWS_CA_BUNDLE, when nil).
	HTTPClient *http.Client
}

// usageError is a command line the CLI cannot run (exit 252).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// serviceError is an error answer of the service (exit 254).
type serviceError struct {
	Code, Message, Operation string
}

func (e *serviceError) Error() string {
	return fmt.Sprintf("An error occurred (%s) when calling the %s operation: %s", e.Code, e.Operation, e.Message)
}

// exitCode maps an error of Run to the AWS CLI's exit code.
func exitCode(err error) int {
	var u *usageError
	var p *paramError
	var s *serviceError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &u), errors.As(err, &p):
		// A parameter refused before any call is v2's 252 (its
		// ParamValidationErrorsHandler), where v1 exits 255.
		return ExitUsage
	case errors.As(err, &s):
		return ExitService
	}
	return ExitOther
}

// Run runs "berth <command> args...", command being ecr or ecr-public, and
// returns the process's exit code. Errors are printed as the AWS CLI
// prints them.
func (m *Main) Run(ctx context.Context, command string, args []string) int {
	err := m.run(ctx, command, args)
	var u *usageError
	switch {
	case err == nil:
	case errors.As(err, &u):
		fmt.Fprintf(m.Stderr, "usage: berth %s <operation> [parameters]\nTo see help text, you can run:\n\n  berth %s help\n  berth %s <operation> help\n\nberth: error: %s\n", command, command, command, u.msg)
	default:
		fmt.Fprintf(m.Stderr, "\n%s\n", err)
	}
	return exitCode(err)
}

func (m *Main) getenv(k string) string {
	if m.Getenv != nil {
		return m.Getenv(k)
	}
	return os.Getenv(k)
}

func (m *Main) run(ctx context.Context, command string, args []string) error {
	svc, err := loadService(command)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("an operation is required")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		writeServiceHelp(m.Stdout, svc)
		return nil
	}
	op := svc.ops[args[0]]
	if op == nil {
		return usagef("argument operation: Invalid choice %q, valid choices are: %v", args[0], svc.opNames())
	}
	inv, err := parseArgs(svc, op, args[1:], m.getenv)
	if err != nil {
		return err
	}
	switch {
	case inv.help:
		writeOperationHelp(m.Stdout, svc, op)
		return nil
	case inv.skeleton == "input":
		v, ord := inputSkeleton(svc, op)
		return writeJSON(m.Stdout, v, ord)
	case inv.skeleton == "output":
		v, ord := outputSkeleton(svc, op)
		return writeJSON(m.Stdout, v, ord)
	}
	if p := svc.paginators[op.Name]; p != nil {
		if n := inv.paging.maxItems; n != nil && *n <= 0 {
			fmt.Fprint(m.Stderr, "warning: Non-positive values for --max-items may result in undefined behavior.\n")
		}
		if inv.paginate {
			return m.paginated(ctx, svc, op, p, inv)
		}
	}
	out, err := m.call(ctx, svc, op, inv)
	if err != nil {
		return err
	}
	return printOutput(m.Stdout, svc, op, out, inv.output, inv.query)
}
