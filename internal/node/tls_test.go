package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with serial
// number serial, and its key, as PEM files; it returns the certificate.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "cityid test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHTTPSReload: with [http] tls_cert and tls_key the API is served over
// HTTPS; after the files are replaced, Reload (SIGHUP) serves the new
// certificate to new connections without a restart, and a pair that does
// not load leaves the one in use.
func TestHTTPSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile, 1)
	r, _, _ := startNode(t, func(c *Config) { c.HTTP.TLSCert, c.HTTP.TLSKey = certFile, keyFile })
	served := func(trust *x509.Certificate) (int64, error) {
		pool := x509.NewCertPool()
		pool.AddCert(trust)
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
		resp, err := c.Get("https://" + r.HTTPAddr + "/healthz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz over https: %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	if n, err := served(first); err != nil || n != 1 {
		t.Fatalf("before the reload: serial %d, %v", n, err)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + r.HTTPAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the HTTPS listener")
		}
	}
	second := writeCert(t, certFile, keyFile, 2)
	if n, err := served(first); err != nil || n != 1 {
		t.Fatalf("files replaced, not reloaded: serial %d, %v; want the first still", n, err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if n, err := served(second); err != nil || n != 2 {
		t.Fatalf("after the reload: serial %d, %v, want 2", n, err)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Error("a key file that does not load was taken")
	}
	if n, err := served(second); err != nil || n != 2 {
		t.Errorf("after a failed reload: serial %d, %v, want the one in use (2)", n, err)
	}
}

// TestTLSConfigChecked: a certificate without its key (or the reverse)
// is a configuration error, named.
func TestTLSConfigChecked(t *testing.T) {
	c := DefaultConfig(t.TempDir())
	c.Comet = cometDefaults(c.Home)
	c.HTTP.TLSCert = "cert.pem"
	if err := c.validate(); err == nil {
		t.Error("tls_cert without tls_key accepted")
	}
}
