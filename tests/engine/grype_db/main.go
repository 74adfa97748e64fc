// Command grype-db builds a grype vulnerability database (schema v6) from a
// directory of advisories the tests write, with grype's own builder: the code
// that builds the database grype's users download, fed the vunnel "os"
// records that feed it there.
//
//	grype-db -results DIR -out DIR [-built RFC3339]
//
// DIR holds one folder per provider (the tests use "debian"), each with its
// records under results/. The listing and the provider's metadata.json,
// which vunnel would write beside them, are written here. -out receives
// vulnerability.db; -built is the build time the database reports (grype
// refuses a database older than its maximum age, which the tests use).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anchore/grype/grype/db"
	"github.com/anchore/grype/grype/db/provider"
	v6 "github.com/anchore/grype/grype/db/v6"
)

func main() {
	results := flag.String("results", "", "a folder of provider folders, each with results/*.json")
	out := flag.String("out", "", "the folder vulnerability.db is written to")
	built := flag.String("built", "", "the build time the database reports (RFC 3339); now when empty")
	flag.Parse()
	if *results == "" || *out == "" {
		fail(fmt.Errorf("usage: grype-db -results DIR -out DIR [-built RFC3339]"))
	}
	when := time.Now().UTC()
	if *built != "" {
		t, err := time.Parse(time.RFC3339, *built)
		if err != nil {
			fail(fmt.Errorf("-built: expected an RFC 3339 time, got %q: %w", *built, err))
		}
		when = t
	}
	states, err := providerStates(*results, when)
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	err = db.Build(db.BuildConfig{
		SchemaVersion:   6,
		Directory:       *out,
		States:          states,
		Timestamp:       when,
		IncludeCPEParts: []string{"a", "h", "o"},
		Hydrate:         true,
		BatchSize:       db.DefaultBatchSize,
	})
	if err != nil {
		fail(fmt.Errorf("building the database: %w", err))
	}
	if err := setBuilt(filepath.Join(*out, v6.VulnerabilityDBFileName), when); err != nil {
		fail(fmt.Errorf("setting the build time: %w", err))
	}
}

// setBuilt records when as the database's build time: grype's builder
// always records its own clock, and the tests need a database that is old.
func setBuilt(path string, when time.Time) error {
	gdb, err := v6.NewLowLevelDB(path, false, true, false)
	if err != nil {
		return err
	}
	built := when.UTC().Round(time.Second)
	if err := gdb.Model(&v6.DBMetadata{}).Where("true").Update("build_timestamp", &built).Error; err != nil {
		return err
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// providerStates writes each provider's listing and metadata.json, as vunnel
// does, and reads them back the way grype's builder expects them.
func providerStates(root string, when time.Time) (provider.States, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var states provider.States
	for _, entry := range entries {
		if !entry.IsDir() {
			continue
		}
		dir := filepath.Join(root, entry.Name())
		listing, err := writeListing(dir)
		if err != nil {
			return nil, err
		}
		metadata := map[string]any{
			"provider":             entry.Name(),
			"urls":                 []string{"https://" + entry.Name() + ".invalid"},
			"store":                "flat-file",
			"timestamp":            when.Format(time.RFC3339),
			"version":              1,
			"distribution_version": 1,
			"processor":            "runner-image tests",
			"listing":              listing,
			"schema": map[string]string{
				"version": "1.0.3",
				"url":     "https://raw.githubusercontent.com/anchore/vunnel/main/schema/provider-workspace-state/schema-1.0.3.json",
			},
			"stale": false,
		}
		data, err := json.Marshal(metadata)
		if err != nil {
			return nil, err
		}
		location := filepath.Join(dir, "metadata.json")
		if err := os.WriteFile(location, data, 0o644); err != nil {
			return nil, err
		}
		state, err := provider.ReadState(location)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", location, err)
		}
		states = append(states, *state)
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("%s: expected a folder per provider, found none", root)
	}
	return states, nil
}

// writeListing writes dir/checksums ("<xxh64>  results/<file>" a line) and
// returns the listing entry metadata.json points at.
func writeListing(dir string) (*provider.File, error) {
	var paths []string
	err := filepath.WalkDir(filepath.Join(dir, "results"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var lines strings.Builder
	for _, path := range paths {
		f, err := provider.NewFile(path)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&lines, "%s  %s\n", f.Digest, rel)
	}
	location := filepath.Join(dir, "checksums")
	if err := os.WriteFile(location, []byte(lines.String()), 0o644); err != nil {
		return nil, err
	}
	listing, err := provider.NewFile(location)
	if err != nil {
		return nil, err
	}
	listing.Path = "checksums"
	return listing, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "grype-db:", err)
	os.Exit(1)
}
