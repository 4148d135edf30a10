-- args.lua - prints what a script receives, for the argument tests.
print(#arg, arg[0], arg[1], arg[2], select("#", ...), ...)
print(#kb)
