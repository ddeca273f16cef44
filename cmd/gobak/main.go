// Command gobak is the command line interface of the gobak backup engine.
// It follows BorgBackup's conventions: `gobak [global flags] COMMAND ...`,
// REPO::ARCHIVE addresses, passphrases from GOBAK_PASSPHRASE,
// GOBAK_PASSCOMMAND, GOBAK_PASSPHRASE_FD or a terminal prompt, and exit
// codes 0 (success), 1 (warning), 2 (error) and 128+N (killed by signal N).
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	ctx, stop := notifyContext()
	code := runApp(ctx, newApp(os.Stdin, os.Stdout, os.Stderr, os.LookupEnv), os.Args[1:])
	stop()
	os.Exit(code)
}

// runApp executes the command line args and returns the process exit code.
// A panic is turned into a one-line "internal error" as a last resort:
// users never see a Go stack trace.
func runApp(ctx context.Context, a *app, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "gobak: internal error: %s; please report this as a bug\n", oneLine(fmt.Sprint(r)))
			code = exitError
		}
	}()
	return a.main(ctx, args)
}
