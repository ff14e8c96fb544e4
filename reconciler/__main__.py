from reconciler.commands.cli import main

main()
