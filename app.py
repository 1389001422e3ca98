"""The omni-emotion web app: Live, Analyze, Evaluate and Status tabs on http://127.0.0.1:7860.

    python app.py [--engine auto|clues|omni] [--host 127.0.0.1] [--port 7860] [--share] [--data-dir DIR ...]

The same as `omni-emotion serve`: the models load once, the server listens on this machine only unless
--host says otherwise, and no public link is made unless --share is given.
"""

import sys

from omni_emotion.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
