from flowtui.entry import main

main()
