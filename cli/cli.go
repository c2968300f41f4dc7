// Package cli is Herald's command line: herald send for scripts, herald export and herald apply for
// keeping a setup in Git. Every command talks to a running Herald through its GraphQL API, with the
// typed client of package client, so it works against a remote server with a token.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/Khan/genqlient/graphql"
	"github.com/heraldhq/herald/client"
	urfave "github.com/urfave/cli/v3"
)

// Exit codes, the contract scripts rely on.
const (
	ExitOK = 0
	// ExitFailed: anything else that went wrong (a file that cannot be written, say).
	ExitFailed = 1
	// ExitInput: the command line, the file or the request was refused for what it asked.
	ExitInput = 2
	// ExitAccess: no token, an unknown or revoked one, or one whose role or namespace does not allow it.
	ExitAccess = 3
	// ExitUnavailable: Herald could not be reached or could not answer.
	ExitUnavailable = 4
	// ExitNotDelivered: with --wait, some robot or every robot did not get the alert.
	ExitNotDelivered = 5
)

// Commands are the subcommands this package adds to the herald binary.
var Commands = []string{"send", "export", "apply"}

// exitError carries the exit code a failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// requestFailed maps a failed API call to the exit code its kind says.
func requestFailed(what string, err error) error {
	code := map[client.Kind]int{client.Input: ExitInput, client.Access: ExitAccess, client.Unavailable: ExitUnavailable}[client.Classify(err)]
	return &exitError{code: code, err: fmt.Errorf("%s: %s", what, client.Message(err))}
}

// Main runs one command line (args[0] is the subcommand) and returns its exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := &urfave.Command{
		Name:  "herald",
		Usage: "send alerts and manage a Herald's setup from the command line",
		Flags: []urfave.Flag{
			&urfave.StringFlag{Name: "server", Usage: "Herald's base URL, e.g. https://herald.example.com", Sources: urfave.EnvVars("HERALD_SERVER"), Value: "http://127.0.0.1:8080"},
			&urfave.StringFlag{Name: "token", Usage: "API token (hrld_...); none in open mode", Sources: urfave.EnvVars("HERALD_TOKEN")},
		},
		Commands:       []*urfave.Command{sendCommand(), exportCommand(), applyCommand()},
		Reader:         stdin,
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(context.Context, *urfave.Command, error) {},
		OnUsageError: func(_ context.Context, _ *urfave.Command, err error, _ bool) error {
			return &exitError{code: ExitInput, err: err}
		},
	}
	err := root.Run(ctx, append([]string{"herald"}, args...))
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "herald:", err)
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	// urfave's own refusals (an unknown flag, a missing value) are the command line's fault.
	return ExitInput
}

// connection is where and as whom a command talks to Herald.
type connection struct {
	server, token string
}

func connect(cmd *urfave.Command) (connection, error) {
	conn := connection{server: cmd.String("server"), token: cmd.String("token")}
	if _, err := client.Endpoint(conn.server); err != nil {
		return conn, &exitError{code: ExitInput, err: err}
	}
	return conn, nil
}

// client is a client working in namespace (the token's own, or default, when empty).
func (c connection) client(namespace string) graphql.Client {
	gc, err := client.New(c.server, c.token, namespace)
	if err != nil {
		panic(err) // connect checked the server URL
	}
	return gc
}

func namespaceFlag() urfave.Flag {
	return &urfave.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the namespace (the token's own, or default, when omitted)", Sources: urfave.EnvVars("HERALD_NAMESPACE")}
}

// RunMain is the herald binary's entry for the subcommands in Commands.
func RunMain(args []string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
