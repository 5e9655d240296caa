// Command ambariconfgen merges the Ambari stack configs of
// sahara-plugin-ambari 8.0.0 (resources/configs-<version>.json: Ambari
// config type → property → stack default) into one compact table,
// plugins/ambari/resources/configs.tsv. Each row is one (config type,
// property, default) with the HDP versions that list it; rows are sorted by
// type then property, which is the order of each upstream file, so a
// version's configs are its rows in table order.
//
//	for v in 2.3 2.4 2.5 2.6; do
//	  git -C sahara-plugin-ambari show 8.0.0:sahara_plugin_ambari/plugins/ambari/resources/configs-$v.json >/tmp/configs-$v.json
//	done
//	go run ./plugins/internal/ambariconfgen -in /tmp -out plugins/ambari/resources/configs.tsv
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var versions = []string{"2.3", "2.4", "2.5", "2.6"}

func main() {
	in := flag.String("in", "", "directory holding configs-<version>.json")
	out := flag.String("out", "", "output file")
	flag.Parse()
	type row struct{ typ, name, def string }
	rows := map[row][]string{}
	for _, v := range versions {
		raw, err := os.ReadFile(filepath.Join(*in, "configs-"+v+".json"))
		if err != nil {
			log.Fatal(err)
		}
		var doc map[string]map[string]string
		if err := json.Unmarshal(raw, &doc); err != nil {
			log.Fatal(err)
		}
		for typ, props := range doc {
			for name, def := range props {
				r := row{typ, name, def}
				rows[r] = append(rows[r], v)
			}
		}
	}
	keys := make([]row, 0, len(rows))
	for r := range rows {
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.def < b.def
	})
	var b bytes.Buffer
	b.WriteString("# versions\tAmbari config type\tproperty (JSON)\tstack default (JSON): HDP stack configs as sahara-plugin-ambari 8.0.0 lists them\n")
	for _, r := range keys {
		name, _ := json.Marshal(r.name)
		def, _ := json.Marshal(r.def)
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", strings.Join(rows[r], ","), r.typ, name, def)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
