// Command berth is a self-hosted container registry that behaves like
// Amazon ECR. "berth serve" runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-registry/berth/cli"
	"github.com/berth-registry/berth/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}

const usage = `berth: a self-hosted container registry that behaves like Amazon ECR

Usage:
  berth serve [flags]    run the registry (berth serve -h lists the flags)
  berth migrate [flags]  apply pending metadata migrations, then exit
  berth env [flags]      print the shell lines that point the AWS CLI at berth:
                         eval "$(berth env)"
  berth backup DEST      copy the embedded default's data into DEST (a directory or s3://bucket/prefix),
                         consistently, while berth serves (incremental: blobs already in DEST are skipped)
  berth restore BACKUP   bring a backup into an empty data directory (--data-dir)
  berth verify [DIR]     check a data directory or a backup: every blob present and intact,
                         every reference and tag whole; exits 1 on any problem
  berth gc [--dry-run]   run one garbage collection sweep against the configured stores and print
                         what it freed (or would free); on the embedded default, with berth stopped
  berth account create ID  add another AWS account, whose IAM users reach this registry across
                         accounts, and print a root access key for it (berth account list lists them)
  berth ecr OPERATION [--PARAMETER VALUE...]  call ECR as the AWS CLI does (aws ecr ...), from the API model:
                         berth ecr describe-images --repository-name app; berth ecr put-image help
  berth ecr-public OPERATION [...]  the same for ECR Public
  berth retag REPO:TAG NEW_TAG...  tag an image again (BatchGetImage, then PutImage of the same manifest)
  berth ls [REPO]        list the repositories, or a repository's images (--output json: the API's answer)
  berth login [--registry HOST] [--print]  write a GetAuthorizationToken token into the docker config's
                         auths (--print: print the password, as aws ecr get-login-password)
  berth push LAYOUT_DIR|TARBALL REF  push an OCI image layout or a docker-archive tarball (--insecure: HTTP)
  berth pull REF LAYOUT_DIR|TARBALL  pull into an OCI image layout, or a docker-archive if it ends in .tar
                         (these take --endpoint-url, --region and --profile, as berth ecr does)
  berth version          print the version and the commit it was built from

Each command's -h lists its flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("a command is required")
	}
	switch args[0] {
	case "serve":
		m := server.New(stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		// Before serving: a reload sent as soon as berth answers must not
		// meet SIGHUP's default action, which ends the process.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		if err := m.Run(ctx); err != nil {
			return err
		}
		for ctx.Err() == nil {
			select {
			case <-hup:
				m.Reload() // logs what it did
			case <-ctx.Done():
			}
		}
		fmt.Fprintln(stderr, "berth: shutting down")
		return m.Close()
	case "migrate":
		c, err := server.LoadConfig("berth migrate", args[1:], os.LookupEnv, stderr, "data-dir", "metadata")
		if err != nil {
			return err
		}
		applied, err := server.Migrate(ctx, c)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "berth: the metadata schema is up to date")
		}
		for _, a := range applied {
			fmt.Fprintln(stdout, "berth: applied", a)
		}
		return nil
	case "env":
		c, err := server.LoadConfig("berth env", args[1:], os.LookupEnv, stderr, "data-dir", "addr", "region", "tls-self-signed", "tls-cert", "tls-key")
		if err != nil {
			return err
		}
		cred, err := server.AdminCredential(c)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, server.EnvLines(c, cred))
		return nil
	case "gc":
		return runGC(ctx, args[1:], stdout, stderr)
	case "account":
		return runAccount(ctx, args[1:], stdout, stderr)
	case "backup", "restore", "verify":
		return runBackup(ctx, args, stdout, stderr)
	case "healthcheck":
		// For a container's HEALTHCHECK: the image has no curl.
		c, err := server.LoadConfig("berth healthcheck", args[1:], os.LookupEnv, stderr, "addr", "tls-self-signed", "tls-cert", "tls-key", "data-dir")
		if err != nil {
			return err
		}
		return server.HealthCheck(ctx, c)
	case "ecr", "ecr-public":
		m := &cli.Main{Stdout: stdout, Stderr: stderr}
		if code := m.Run(ctx, args[0], args[1:]); code != cli.ExitOK {
			os.Exit(code)
		}
		return nil
	case "retag", "ls", "login", "push", "pull":
		m := &cli.Main{Stdout: stdout, Stderr: stderr}
		if code := m.RunVerb(ctx, args[0], args[1:]); code != cli.ExitOK {
			os.Exit(code)
		}
		return nil
	case "version":
		fmt.Fprintln(stdout, "berth", server.VersionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
