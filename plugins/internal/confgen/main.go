// Command confgen extracts the Hadoop property lists of Sahara's vanilla and
// spark versions (names and defaults of the *-default.xml files Sahara
// lists, in Sahara's order, hidden names already removed) from a
// conformance plugin.json into resources/configs/<version>.tsv. Descriptions
// are not copied: the plugins write their own.
//
//	go run ./plugins/internal/confgen -in ../shared/conformance/vanilla/plugin.json -out plugins/vanilla/resources/configs
//	go run ./plugins/internal/confgen -in ../shared/conformance/spark/plugin.json -version 2.3 -out plugins/spark/resources/configs
//
// Sahara's spark plugin lists the same properties for every version, so the
// spark plugin keeps one list (-version picks it).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

var xmlTargets = map[string]bool{"Hadoop": true, "HDFS": true, "YARN": true, "MapReduce": true, "JobFlow": true, "Hive": true}

type config struct {
	Name    string          `json:"name"`
	Target  string          `json:"applicable_target"`
	Default json.RawMessage `json:"default_value"`
	Type    string          `json:"config_type"`
}

func main() {
	in := flag.String("in", "", "conformance vanilla/plugin.json")
	out := flag.String("out", "", "output directory")
	only := flag.String("version", "", "write only this version's list")
	cdh := flag.Bool("cdh", false, "the input is the CDH plugin.json (see cdh.go)")
	flag.Parse()
	raw, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	if *cdh {
		if err := writeCDH(raw, *out); err != nil {
			log.Fatal(err)
		}
		return
	}
	var doc struct {
		Versions map[string]struct {
			Configs []config `json:"configs"`
		} `json:"versions_detail"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatal(err)
	}
	for v, d := range doc.Versions {
		if *only != "" && v != *only {
			continue
		}
		var b bytes.Buffer
		b.WriteString("# target\tname (JSON)\tdefault (JSON): Hadoop " + v + " property defaults as Sahara lists them\n")
		for _, c := range d.Configs {
			// Env configs (heap sizes) share these targets; they are defined in code.
			if !xmlTargets[c.Target] || strings.HasSuffix(c.Name, " Heap Size") {
				continue
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, c.Default); err != nil {
				log.Fatal(err)
			}
			// Some Oozie names carry newlines and indentation; JSON keeps them exact.
			name, _ := json.Marshal(c.Name)
			fmt.Fprintf(&b, "%s\t%s\t%s\n", c.Target, name, compact.String())
		}
		if err := os.WriteFile(filepath.Join(*out, v+".tsv"), b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
