package config

import (
	"bufio"
	"bytes"
	"strings"
)

// lineIndex maps dotted key paths ("chains.seoul-1.gas_price") to the line that sets them, so
// errors found after decoding can point at the file. It reads table headers and "key = value" lines,
// which is all a relayer config uses.
type lineIndex map[string]int

func newLineIndex(raw []byte) lineIndex {
	idx := lineIndex{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			// [table] or [[array.of.tables]]: keys of an array's entries index under the array's
			// name, the first entry's line first.
			table = unquote(strings.Trim(strings.SplitN(line, "]", 2)[0], "[ "))
			if _, ok := idx[table]; !ok {
				idx[table] = n
			}
			continue
		}
		if k, _, ok := strings.Cut(line, "="); ok {
			key := unquote(strings.TrimSpace(k))
			if table != "" {
				key = table + "." + key
			}
			if _, ok := idx[key]; !ok {
				idx[key] = n
			}
		}
	}
	return idx
}

// line returns the line of key, or of its closest enclosing table, or 0.
func (idx lineIndex) line(key string) int {
	for k := key; k != ""; {
		if n, ok := idx[k]; ok {
			return n
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

func unquote(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// keyAt returns the key set on line n ("" if none).
func (idx lineIndex) keyAt(n int) string {
	best := ""
	for k, l := range idx {
		if l == n && len(k) > len(best) {
			best = k
		}
	}
	return best
}
