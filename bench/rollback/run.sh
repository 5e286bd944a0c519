#!/bin/sh
# Times `edgegw rollback` of the local target end to end (process start included) and, when strace is
# installed, counts the file-system system calls it makes. Run from the repository root:
#   sh bench/rollback/run.sh
set -eu
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/edgegw" .
go run ./bench/rollback -versions 10 -runs 50
cd "$work"
cp "$root/testdata/examples/quickstart.yaml" edgegw.yaml
./edgegw apply --auto-approve >/dev/null 2>&1
sed 's/body: ok}/body: ok-v2}/' edgegw.yaml > v2.yaml && mv v2.yaml edgegw.yaml
./edgegw apply --auto-approve >/dev/null 2>&1
start=$(date +%s%N)
./edgegw rollback >/dev/null 2>&1
end=$(date +%s%N)
echo "edgegw rollback (CLI, process start included): $(( (end - start) / 1000000 )) ms"
if command -v strace >/dev/null 2>&1; then
  ./edgegw rollback --version 2 >/dev/null 2>&1
  strace -f -c -e trace=%file,%desc -o strace.txt ./edgegw rollback --version 1 >/dev/null 2>&1
  echo "strace -c -f (file and descriptor system calls of the whole process):"
  sed -n '1,40p' strace.txt
fi
