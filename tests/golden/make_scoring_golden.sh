#!/usr/bin/env bash
# Regenerate tests/golden/scoring.csv by hand-coded formulas in bc -l (arbitrary
# precision, scale 40), independently of the Python code (no numpy, scipy or
# project imports). See tests/golden/README.md for the formulas and tolerance.
#
# Usage: bash tests/golden/make_scoring_golden.sh > tests/golden/scoring.csv
#
# Every number below is typed in from shared/clinical-evidence.md, NOT read
# from assessment/data/*.csv, so a wrong table cell makes the golden test fail.
set -euo pipefail
export LC_ALL=C

# --- constants from shared/clinical-evidence.md -----------------------------
COURSE_M=3.0                # §1, Carter 2019: 3 m course
REF_MEAN=5.1                # §3, Polo-Ferrero 2025 non-fallers, mean (s)
REF_SD=1.3                  # §3, Polo-Ferrero 2025 non-fallers, SD (s)
COMMUNITY_ICC=0.940         # §4, Özden et al. 2021, test-retest ICC

# MDC95 per population (s); community is derived below, '' = none published.
mdc95_published() {
    case "$1" in
        parkinsons) echo 2.13 ;;         # §4, Kocer 2023
        multiple_sclerosis) echo 1.69 ;; # §4, Söke 2022
        stroke) echo 1.57 ;;             # §4, J Stroke Cerebrovasc Dis 2021 (as published)
        knee_arthroplasty) echo 2.94 ;;  # §4, Unver 2020
        hip_arthroplasty) echo 4.33 ;;   # §4, Özden, Coşkun, Bakırhan
        amputation) calc "1.96 * sqrt(2) * 0.38" ;; # §4, Şahan 2023 (abstract): SEM 0.38 s, MDC95 = 1.96 × √2 × SEM
        *) echo "" ;;                    # nursing_home: none
    esac
}

calc() { BC_LINE_LENGTH=0 bc -l <<<"scale=40; $1"; }
fmt() { [ -z "$1" ] && { echo ""; return; }; printf "%.${2}f" "$1"; }
# true (exit 0) when the bc expression is non-zero
is() { [ "$(calc "$1")" != "0" ]; }

# MDC95 = 1.96 × √2 × SD × √(1 − ICC)   (clinical-evidence.md §4)
COMMUNITY_MDC95=$(calc "1.96 * sqrt(2) * $REF_SD * sqrt(1 - $COMMUNITY_ICC)")

# Φ(z) by Marsaglia's Taylor series (J Stat Softw 2004, 11(4)):
#   Φ(z) = 1/2 + φ(z) · (z + z³/3 + z⁵/(3·5) + z⁷/(3·5·7) + …),
# summed in bc until a term no longer changes the sum at scale 40.
phi_cdf() {
    calc "
    z = $1; q = z * z; s = z; b = z; t = 0; i = 1
    while (s != t) { t = s; i = i + 2; b = b * q / i; s = t + b }
    0.5 + s * e(-q / 2) / sqrt(8 * a(1))
    "
}

band_for() { # population mean  -> band name ('' when no published cut-off)
    local pop=$1 t=$2
    case "$pop" in
        community) # §2, Carter 2019: ≤ 3.0 s low, ≥ 4.5 s high
            if is "$t <= 3.0"; then echo low; elif is "$t < 4.5"; then echo intermediate; else echo high; fi ;;
        nursing_home) # §2, Kapan 2025: ≥ 8.15 s
            if is "$t >= 8.15"; then echo high; else echo low; fi ;;
        parkinsons) # §2, Carter 2020: 4.2 s
            if is "$t >= 4.2"; then echo high; else echo low; fi ;;
        multiple_sclerosis) # §2, Söke 2022 (abstract): faller cut-off 7.86 s
            if is "$t >= 7.86"; then echo high; else echo low; fi ;;
        *) echo "" ;;
    esac
}

# --- the cases: population | trials (';', a trailing * marks an invalid trial) | previous mean (s)
CASES='community|2.5;2.7|
community|3.0;3.0|
community|3.2;3.6|4.3
community|4.5;4.5|4.0
community|5.1;5.1|
community|6.8;7.4|6.2
community|12.0;9.0;30.0*|
community|1.0;1.0|
community|30.0;40.0|
community|3.75|3.0
community|4.49;4.49|5.38
nursing_home|8.0;8.3|10.0
nursing_home|7.0;7.2|
parkinsons|4.1;4.3|2.07
parkinsons|4.19;4.19|6.32
parkinsons|5.0;5.0|6.0
multiple_sclerosis|6.0;6.5|8.0
stroke|10.0;11.0|9.5
knee_arthroplasty|5.0;5.0|7.94
hip_arthroplasty|9.0;8.0|4.17
amputation|4.0;4.4|4.0
amputation|5.2;5.3|4.0
multiple_sclerosis|7.9;7.9|
dementia|12.0;13.0|10.0
dementia|14.0;16.0|10.0'

echo "population,trials,previous_seconds,mean_seconds,speed_m_per_s,z,percentile,band,change_seconds,change,mdc95"
while IFS='|' read -r pop trials prev; do
    sum=0; n=0
    IFS=';' read -r -a parts <<<"$trials"
    for p in "${parts[@]}"; do
        case "$p" in *'*') continue ;; esac   # invalid trial: not in the mean
        sum=$(calc "$sum + $p"); n=$((n + 1))
    done
    mean=$(calc "$sum / $n")
    speed=$(calc "$COURSE_M / $mean")
    z=""; pct=""
    if [ "$pop" = community ]; then
        # log-normal by the method of moments: σ² = ln(1 + s²/m²), μ = ln m − σ²/2
        z=$(calc "s2 = l(1 + ($REF_SD / $REF_MEAN)^2); mu = l($REF_MEAN) - s2 / 2; (l($mean) - mu) / sqrt(s2)")
        pct=$(calc "100 * $(phi_cdf "$z")")
    fi
    band=$(band_for "$pop" "$mean")
    mdc=$([ "$pop" = community ] && echo "$COMMUNITY_MDC95" || mdc95_published "$pop")
    if [ "$pop" = dementia ] && [ -n "$prev" ]; then
        # §4, Chan 2022 (abstract): MDC 0.10 m/s; |3/mean − 3/prev| ≥ 0.10 ⇔ |mean − prev| ≥ 0.10·prev·mean/3
        mdc=$(calc "0.10 * $prev * $mean / $COURSE_M")
    fi
    delta=""; change=""
    if [ -n "$prev" ]; then
        delta=$(calc "$mean - $prev")
        if [ -n "$mdc" ]; then
            if is "$delta <= -$mdc"; then change=improved
            elif is "$delta >= $mdc"; then change=worse
            else change=no_real_change; fi
        fi
    fi
    mdc_out=$(fmt "$mdc" 6)
    printf '%s,"%s",%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
        "$pop" "$trials" "$prev" "$(fmt "$mean" 6)" "$(fmt "$speed" 6)" "$(fmt "$z" 6)" \
        "$(fmt "$pct" 6)" "$band" "$(fmt "$delta" 6)" "$change" "$mdc_out"
done <<<"$CASES"
