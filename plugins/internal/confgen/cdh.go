package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// cdhConfig is one config of the CDH plugin.json with every field the
// plugin lists (the CDH configs are not Hadoop *-default.xml properties:
// they are Cloudera Manager's, per service and role).
type cdhConfig struct {
	config
	Scope      string `json:"scope"`
	IsOptional bool   `json:"is_optional"`
	Priority   int    `json:"priority"`
}

// writeCDH writes resources/configs/<version>.tsv.gz for each version of
// the CDH plugin.json: one config a line, in Sahara's order,
// "target\tscope\ttype\toptional\tpriority\tname (JSON)\tdefault (JSON)".
// Gzip keeps the ~3,700 lines of each version at ~40 KB. Descriptions
// are not copied.
//
//	go run ./plugins/internal/confgen -cdh -in ../shared/conformance/cdh/plugin.json -out plugins/cdh/resources/configs
func writeCDH(raw []byte, out string) error {
	var doc struct {
		Versions map[string]struct {
			Configs []cdhConfig `json:"configs"`
		} `json:"versions_detail"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for v, d := range doc.Versions {
		var b bytes.Buffer
		b.WriteString("# target\tscope\ttype\toptional\tpriority\tname (JSON)\tdefault (JSON): CDH " + v + " configs as Sahara lists them\n")
		for _, c := range d.Configs {
			var def bytes.Buffer
			if err := json.Compact(&def, c.Default); err != nil {
				return err
			}
			name, _ := json.Marshal(c.Name)
			fmt.Fprintf(&b, "%s\t%s\t%s\t%v\t%d\t%s\t%s\n", c.Target, c.Scope, c.Type, c.IsOptional, c.Priority, name, def.String())
		}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, v+".tsv.gz"), z.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
