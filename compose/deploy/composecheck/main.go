// composecheck loads a compose file the way `docker compose config` does, through the Compose
// Specification's own Go loader (compose-go): YAML, variable interpolation, the compose-spec
// JSON schema, normalization and the consistency checks (unknown services in depends_on,
// undefined volumes, networks, secrets, configs...). Every profile is enabled. It needs no
// Docker engine; compose/deploy/check.sh builds and runs it when Go is installed.
//
//	composecheck [-print] COMPOSE_FILE...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	printModel := flag.Bool("print", false, "print the resolved model (like `docker compose config`)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-print] COMPOSE_FILE...")
		os.Exit(2)
	}
	dir, err := filepath.Abs(filepath.Dir(flag.Arg(0)))
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions(flag.Args(),
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	if *printModel {
		out, err := project.MarshalYAML()
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(out)
		return
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("composecheck: project %q loaded: %d services %v\n", project.Name, len(names), names)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "composecheck: %v\n", err)
	os.Exit(1)
}
