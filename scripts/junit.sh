# Shell helpers for the suites that run outside the JVM (sourced by test.sh, integration-tests/fuse/run.sh,
# cnf/smoke-up.sh): JUnit XML reports written without Python, so that a failure is counted by
# scripts/junit-summary.py even when what failed is the environment itself.

# junit_xml_escape: stdin to stdout, escaped for an XML attribute or text, control characters dropped
# (XML 1.0 has no place for them; terminal logs are full of them).
junit_xml_escape() {
  tr -d '\000-\010\013\014\016-\037' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# junit_failure FILE SUITE CASE MESSAGE [DETAILS]: writes FILE, a report of one failed test case.
junit_failure() {
  local file=$1 suite=$2 case=$3 msg=$4 details=${5:-}
  mkdir -p "$(dirname "$file")"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"$(printf '%s' "$suite" | junit_xml_escape)\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">"
    echo "  <testcase classname=\"$(printf '%s' "$suite" | junit_xml_escape)\" name=\"$(printf '%s' "$case" | junit_xml_escape)\">"
    echo "    <failure message=\"$(printf '%s' "$msg" | tr '\n' ' ' | junit_xml_escape)\">$(printf '%s\n%s' "$msg" "$details" | junit_xml_escape)</failure>"
    echo '  </testcase>'
    echo '</testsuite>'
  } >"$file.tmp" && mv -f "$file.tmp" "$file"
}

# junit_has_failure FILE: whether the report holds a failed or erroneous test case.
junit_has_failure() {
  grep -qs -e '<failure' -e '<error' "$1"
}
