# Run at power-on and after every soft reset by the firmware (main.c), before the REPL:
# the board application the config flash sector asks for (boardcfg; default: the SSL
# client demo). It returns to the REPL on Ctrl-C, with role=repl, or at once when nothing
# was loaded into the sector. Kept to one line so the REPL's namespace stays clean.
__import__("demo").boot()
