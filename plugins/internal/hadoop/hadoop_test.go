package hadoop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestSiteXML_SortedAndEscapedAsMinidom(t *testing.T) {
	got, err := SiteXML(map[string]string{"b": `x<y&"z">`, "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" ?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<configuration>
  <property>
    <name>a</name>
    <value>1</value>
  </property>
  <property>
    <name>b</name>
    <value>x&lt;y&amp;&quot;z&quot;&gt;</value>
  </property>
</configuration>
`
	if string(got) != want {
		t.Errorf("SiteXML =\n%s\nwant\n%s", got, want)
	}
}

func TestPoll_TimesOutWithSaharasMessage(t *testing.T) {
	now := time.Unix(0, 0)
	checks := 0
	r := NewRuntime(Options{
		Now:   func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error { now = now.Add(d); return nil },
	})
	err := r.Poll(context.Background(), 9, "Decommissioning Timeout", "Decommission DataNodes", 3*time.Second, func() (bool, error) {
		checks++
		return false, nil
	})
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "TimeoutException" ||
		se.Message != "'Operation with name 'Decommission DataNodes'' timed out after 9 second(s) and following timeout was violated: Decommissioning Timeout" {
		t.Fatalf("Poll = %v", err)
	}
	if checks != 3 {
		t.Errorf("checked %d times in 9 s every 3 s, want 3", checks)
	}
}

func TestParseDFSReport_BothLayouts(t *testing.T) {
	hadoop1 := "Configured Capacity: 1\n-----\nDatanodes available: 2 (2 total, 0 dead)\n\nName: 10.0.0.1:50010\nDecommission Status : Decommissioned\n\nName: 10.0.0.10:50010\nDecommission Status : Normal\n"
	hadoop2 := "Configured Capacity: 1\n-----\nLive datanodes (1):\n\nName: 10.0.0.1:9866 (h1.novalocal)\r\nHostname: h1.novalocal\r\nDecommission Status : Decommission in progress\r\n"
	got1, got2 := ParseDFSReport(hadoop1), ParseDFSReport(hadoop2)
	if len(got1) != 2 || got1[0].Address() != "10.0.0.1" || got1[0].Status != "Decommissioned" || got1[1].Address() != "10.0.0.10" || got1[1].Status != "Normal" {
		t.Errorf("Hadoop 1 report: %+v", got1)
	}
	if len(got2) != 1 || got2[0].Address() != "10.0.0.1" || got2[0].Hostname != "h1.novalocal" || got2[0].Status != "Decommission in progress" {
		t.Errorf("Hadoop 2 report: %+v", got2)
	}
}
