"""``python -m kubesim serve …`` (see ``kubesim.serve``)."""

from kubesim.serve import main

main()
