-- ARGV: session
close_session(ARGV[3])
return 1
