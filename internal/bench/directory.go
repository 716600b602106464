package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cityid/cityid/internal/bench/workload"
)

// The reference data the batch, resolve and serve benchmarks register:
// copies of ../shared/data/cn-divisions/{communities.csv.gz,cities.csv}
// (see testdata/README.md). They are read from the repository, not
// embedded, so that 5 MB of village names do not ride in every node's
// binary.
const (
	communitiesFile = "communities.csv.gz"
	citiesFile      = "cities.csv"
	// dataRel is where the data lives in the repository.
	dataRel = "internal/bench/testdata"
)

// FindData returns the folder holding the benchmark's reference data:
// dir when given, else internal/bench/testdata of the repository that
// holds the working directory (or testdata beside it, as in `go test`).
func FindData(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, communitiesFile)); err != nil {
			return "", fmt.Errorf("benchmark data: %w", err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		for _, c := range []string{filepath.Join(d, dataRel), filepath.Join(d, "testdata")} {
			if _, err := os.Stat(filepath.Join(c, communitiesFile)); err == nil {
				return c, nil
			}
		}
		up := filepath.Dir(d)
		if up == d {
			break
		}
		d = up
	}
	return "", errors.New("benchmark data: no " + dataRel + "/" + communitiesFile + " in the working directory or above it; " +
		"run from the CityID repository or give --data")
}

// LoadDirectory reads the community directory from the data folder.
func LoadDirectory(dataDir string) (*workload.Directory, error) {
	comm, err := os.Open(filepath.Join(dataDir, communitiesFile))
	if err != nil {
		return nil, err
	}
	defer comm.Close()
	cities, err := os.Open(filepath.Join(dataDir, citiesFile))
	if err != nil {
		return nil, err
	}
	defer cities.Close()
	return workload.ReadDirectory(comm, cities)
}

// dirBytes is the sum of the sizes of the files under dir (du
// --apparent-size).
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			info, err := e.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
