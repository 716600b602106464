package accesslog

import (
	"fmt"
	"strconv"
	"strings"
)

// FileName is the log file's name for a dataset: the dataset with every
// byte outside [A-Za-z0-9_-] (and a leading dot, never) written %XX, then
// ".log". It is one path element whatever the dataset holds ("/" becomes
// %2F), readable for identifiers (1561301001.85.1%2Fexam-2026.log), and
// DatasetOf reverses it exactly.
func FileName(dataset string) string {
	var b strings.Builder
	for i := 0; i < len(dataset); i++ {
		c := dataset[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	b.WriteString(".log")
	return b.String()
}

// DatasetOf is the dataset whose log file is name, if name is one
// FileName makes.
func DatasetOf(name string) (string, bool) {
	stem, ok := strings.CutSuffix(name, ".log")
	if !ok || stem == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(stem); i++ {
		if stem[i] != '%' {
			b.WriteByte(stem[i])
			continue
		}
		if i+2 >= len(stem) {
			return "", false
		}
		v, err := strconv.ParseUint(stem[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	ds := b.String()
	if FileName(ds) != name || checkDataset(ds) != nil {
		return "", false
	}
	return ds, true
}
