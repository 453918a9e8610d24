"""Stand-in for the pip bootstrap script ansible-test downloads from a host of its own (unreachable here).

ansible-test runs it as ``python get_pip.py [pip options] pip==X [--no-setuptools] [--no-wheel]`` inside a new
virtualenv that has no pip. The standard library's ensurepip module installs a pip, which then installs the exact
packages asked for from the package index, as the original script does.
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    # In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in the environment of the process that
    # runs it, which would hide the machine's pip configuration (index, certificates) from the install below.
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    sys.exit(main())
