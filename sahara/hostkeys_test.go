package sahara

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseConsoleHostKeys_ExtractsCloudInitBlock(t *testing.T) {
	_, ed, err := GenerateManagementKey("")
	if err != nil {
		t.Fatal(err)
	}
	_, ed2, _ := GenerateManagementKey("")
	console := strings.Join([]string{
		"booting...",
		"ssh-ed25519 AAAAnotinblock",
		"ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----",
		"ec2: 256 SHA256:abc root@x (ED25519)",
		"ec2: -----END SSH HOST KEY FINGERPRINTS-----",
		"-----BEGIN SSH HOST KEY KEYS-----\r",
		ed + " root@host\r",
		ed, // duplicate
		"ssh-rsa " + strings.Fields(ed)[1] + " lies about its type",
		"ssh-ed25519 !!!notbase64",
		ed2,
		"-----END SSH HOST KEY KEYS-----",
		ed2 + "x",
	}, "\n")
	got := ParseConsoleHostKeys(console)
	want := []string{ed, ed2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseConsoleHostKeys_NoBlock(t *testing.T) {
	if got := ParseConsoleHostKeys("nothing here\n"); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

// A console log is untrusted text: whatever it holds, the parser returns
// only well-formed "<type> <base64>" keys whose blob names its type, each
// once, each present in the log inside a BEGIN/END block.
func FuzzParseConsoleHostKeys(f *testing.F) {
	_, ed, err := GenerateManagementKey("")
	if err != nil {
		f.Fatal(err)
	}
	const begin, end = "-----BEGIN SSH HOST KEY KEYS-----", "-----END SSH HOST KEY KEYS-----"
	for _, seed := range []string{
		"", "\n", begin, end, begin + "\n" + ed + "\n" + end,
		"ec2: " + begin + "\r\nec2: " + ed + " root@h\r\nec2: " + end + "\r\n",
		begin + "\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5\nssh-rsa AAAA////\n" + end,
		begin + "\nssh-ed25519 /////w==\n" + end, // a length past the blob
		begin + "\n" + ed + "\n" + begin + "\n" + ed + "\x00\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, console string) {
		keys := ParseConsoleHostKeys(console)
		seen := map[string]bool{}
		for _, k := range keys {
			fields := strings.Fields(k)
			if len(fields) != 2 || k != fields[0]+" "+fields[1] {
				t.Fatalf("key %q is not \"<type> <base64>\"", k)
			}
			if !validKeyBlob(fields[0], fields[1]) {
				t.Fatalf("key %q: its blob does not name its type", k)
			}
			if seen[k] {
				t.Fatalf("key %q returned twice", k)
			}
			seen[k] = true
			if !strings.Contains(console, fields[1]) || !strings.Contains(console, begin) {
				t.Fatalf("key %q is not in the log's key block", k)
			}
		}
	})
}
