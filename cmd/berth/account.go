package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/server"
)

const accountUsage = `usage: berth account create <12-digit account id> [flags]
       berth account list [flags]

berth serves the registry of its own account (--registry-id). Another
account holds IAM users and roles that reach that registry across accounts,
under its repository and registry policies, as on ECR. create adds one and
prints a root access key for it (each account may have two); with that key,
'aws iam create-user' and the rest manage the account's users.
On the embedded default run it with berth stopped; on PostgreSQL, beside
running replicas.
`

// runAccount is berth account.
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprint(stderr, accountUsage)
		return fmt.Errorf("berth account: create or list")
	}
	verb, rest := args[0], slices.Clone(args[1:])
	id := ""
	if verb == "create" {
		if len(rest) == 0 || len(rest[0]) == 0 || rest[0][0] == '-' {
			fmt.Fprint(stderr, accountUsage)
			return fmt.Errorf("berth account create: the account id is required")
		}
		id, rest = rest[0], rest[1:]
	}
	c, err := server.LoadConfig("berth account "+verb, rest, os.LookupEnv, stderr, "data-dir", "metadata", "blobs", "registry-id", "secrets-key-file")
	if err != nil {
		return err
	}
	key, err := server.LoadSecretsKey(c)
	if err != nil {
		return err
	}
	meta, blobs, err := server.OpenStores(ctx, c)
	if err != nil {
		return err
	}
	defer meta.Close()
	reg := registry.New(meta, blobs, registry.Config{ID: c.RegistryID, Region: c.Region, SecretsKey: key})
	if err := reg.EnsureAccount(ctx); err != nil {
		return err
	}
	if verb == "list" {
		accounts, err := reg.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			note := ""
			if a.ID == c.RegistryID {
				note = " (this registry's)"
			}
			fmt.Fprintf(stdout, "%s%s\n", a.ID, note)
		}
		return nil
	}
	k, err := reg.CreateAccount(ctx, id)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]string{"accountId": id, "principal": "arn:aws:iam::" + id + ":root", "accessKeyId": k.AccessKeyID, "secretAccessKey": k.SecretAccessKey})
}
