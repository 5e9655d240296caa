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
