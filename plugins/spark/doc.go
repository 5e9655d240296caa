// Package spark is saharagen's plugin for Apache Spark standalone clusters
// on HDFS, the equivalent of Sahara's spark plugin (sahara-plugin-spark
// 8.0.0): the same versions (2.3, 2.2, 2.1.0, 1.6.0), node processes
// (namenode, datanode, master, slave), configs and defaults, and validation
// messages, so that users who move from Sahara get the same answers for
// the same cluster descriptions.
//
// # Configs
//
// The HDFS property list (core-default.xml, hdfs-default.xml and the Swift
// defaults of Sahara's plugin, hidden names removed; the same for every
// version) is embedded in resources/configs, extracted from the
// conformance data by plugins/internal/confgen. Types, scopes and
// priorities follow Sahara's rules; the curated properties carry the
// project's own descriptions. Values arrive as strings and are parsed by
// the config's type ("2" is 2).
//
// # Intentional differences from Sahara
//
//   - Validation reads an integer config given as a string as the integer
//     (Sahara crashes comparing int and str).
//   - After Sahara's rules, Validate refuses Spark option values the plugin
//     cannot deliver: spark-env.sh is sourced by bash, so ports must be
//     port numbers ("random" for the worker port), worker cores and
//     instances positive numbers or "all", worker memory a size such as 2g
//     or "all", Spark home a plain absolute path and the executor classpath
//     plain absolute paths separated by ":"; volume mount prefixes must be
//     plain absolute paths.
//
// # How it is verified
//
// The conformance suite (go test ./plugins/spark -run Conformance, with
// SAHARAGEN_CONFORMANCE_DIR) compares every validate and validate_scaling
// case and plugin.json.
package spark
