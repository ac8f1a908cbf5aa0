// Command ferretdbserver runs FerretDB v1 with its SQLite backend as kx-lake's local
// MongoDB-compatible source.
//
// Why a main of our own: FerretDB's own cmd/ferretdb panics when built with `go install`
// (it expects a generated build/version/version.txt), whereas its embeddable package
// github.com/FerretDB/FerretDB/ferretdb does not. So we embed it, keep the flag surface tiny
// (listen address, data directory, log level) and leave process management to Python
// (kx_lake/lib/source/local_server.py). --exit-with-parent lets test sessions tie a server's
// life to theirs, so a killed pytest never leaves servers behind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdbserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ferretdbserver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to listen on (host:port)")
	sqliteDir := fs.String("sqlite-dir", "", "directory holding the SQLite databases (required)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	exitWithParent := fs.Bool("exit-with-parent", false, "stop when the process that started us exits")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *sqliteDir == "" {
		return errors.New("--sqlite-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		return fmt.Errorf("invalid --log-level %q: %w", *logLevel, err)
	}
	logger := slog.New(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})
	slog.SetDefault(logger)

	dir, err := filepath.Abs(*sqliteDir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(dir) + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if *exitWithParent {
		ctx = watchParent(ctx, logger)
	}

	logger.Info("ferretdbserver listening", "listen", *listen, "sqlite-dir", dir)
	if err = f.Run(ctx); err != nil {
		return err
	}
	logger.Info("ferretdbserver stopped")
	return nil
}

// watchParent returns a context canceled once our parent process is gone (we get re-parented).
func watchParent(ctx context.Context, logger *slog.Logger) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	parent := os.Getppid()
	go func() {
		ticker := time.NewTicker(500 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if os.Getppid() != parent {
					logger.Warn("parent process exited; stopping", "parent", parent)
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}

// quietHandler demotes FerretDB's dump of every failed command (logged at WARN, with the whole
// response, e.g. for each `endSessions` a driver sends on close) to DEBUG: the client already
// receives the error, and at the default WARN level the log should hold only server problems.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, "Response ") {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
