// Package report renders tidewatch findings for people: a table for the
// terminal and one self-contained HTML page with charts.
//
// It owns reading findings written one ASFF JSON object per line (Read),
// choosing and ordering them (New: one finding per Id, the latest
// UpdatedAt winning; severity highest first, then first seen), and writing
// them (WriteText, WriteHTML).
//
// Invariants: rendering is a function of the findings and the options
// alone (no clock: the page is dated with the latest UpdatedAt), so the
// same findings give the same bytes; every string from a finding is
// escaped for where it lands (html/template on the page, control
// characters in the table), because titles, commands and pod names can
// be chosen by an attacker; the page loads nothing: inline stylesheet and
// SVG, no script, no font, no image, and its only links out are MITRE
// ATT&CK technique pages and the findings' own remediation URLs.
package report
