/**
 * File names of programs and libraries that Windows itself installs, most of them in System32:
 * the binaries advisories name when they describe what attackers ran ("wevtutil.exe cl system",
 * "vssadmin.exe delete shadows"). Vigil's own list, written for this purpose; LOLBAS, when the
 * content folder holds it, adds the Microsoft-signed binaries attackers abuse beyond these.
 */
const WINDOWS_BINARY_NAMES = `
at atbroker attrib audiodg auditpol bash bcdboot bcdedit bitsadmin cacls calc certreq certutil
chkdsk choice cipher cleanmgr clip cmd cmdkey cmstp compact consent conhost control csc cscript
csrss csvde ctfmon curl dcdiag defrag diskpart diskshadow dism displayswitch dllhost dnscmd
driverquery dsget dsquery dwm esentutl eventvwr expand explorer extrac32 findstr find fltmc
fontdrvhost forfiles fsutil ftp getmac gpresult gpupdate hh hostname icacls ieexec iexplore
infdefaultinstall installutil ipconfig jsc klist ldifde logman logoff logonui lsaiso lsass lsm
magnify makecab mavinject mmc mountvol msbuild msconfig msdt msedge mshta msiexec msinfo32 msg
mspaint mstsc nbtstat net net1 netdom netsh netstat nltest notepad nslookup ntdsutil odbcconf
osk pathping pcalua perfmon ping pktmon pnputil powercfg powershell powershell_ise
presentationhost print qprocess query quser qwinsta rasautou rasdial reagentc reg regasm
regedit regini regsvcs regsvr32 relog repadmin replace resmon robocopy route runas rundll32
runtimebroker rwinsta sc schtasks sdbinst searchfilterhost searchindexer searchprotocolhost
secedit services sethc setspn setx sfc shutdown sihost smartscreen smss sort spoolsv ssh sftp scp
svchost systeminfo takeown tar taskhost taskhostw taskkill tasklist taskmgr telnet tftp timeout
tiworker tracerpt tracert trustedinstaller typeperf tzutil userinit utilman vbc verclsid vssadmin
vssvc w32tm waitfor wbadmin wecutil werfault wermgr wevtutil where whoami wininit winlogon winrs
wmic wmiprvse wmiapsrv wordpad write wsl wsmprovhost wuauclt wusa xcopy`
  .trim()
  .split(/\s+/)
  .map((name) => `${name}.exe`);

const WINDOWS_LIBRARY_NAMES = `
advapi32 amsi bcrypt cabinet clr comsvcs crypt32 dbgcore dbghelp dnsapi imagehlp iphlpapi kerberos
kernel32 kernelbase lsasrv mpr msv1_0 msvcrt mscoree ncrypt netapi32 ntdll ole32 oleaut32 psapi
rasapi32 samlib schannel secur32 setupapi shell32 sspicli urlmon user32 userenv vaultcli version
wdigest winhttp wininet wldp wlanapi ws2_32 wtsapi32`
  .trim()
  .split(/\s+/)
  .map((name) => `${name}.dll`);

export const WINDOWS_BINARIES: readonly string[] = [...WINDOWS_BINARY_NAMES, ...WINDOWS_LIBRARY_NAMES];

/** Where Windows installs them, lower case, as paths in advisories are normalised (see tools.ts). */
export const WINDOWS_FOLDERS: readonly string[] = [
  'c:\\windows',
  'c:\\windows\\system32',
  'c:\\windows\\syswow64',
  'c:\\windows\\sysnative',
  'c:\\windows\\system32\\wbem',
  'c:\\windows\\syswow64\\wbem',
  'c:\\windows\\system32\\windowspowershell\\v1.0',
  'c:\\windows\\syswow64\\windowspowershell\\v1.0',
  'c:\\windows\\system32\\openssh',
  'c:\\windows\\microsoft.net\\framework\\v2.0.50727',
  'c:\\windows\\microsoft.net\\framework\\v4.0.30319',
  'c:\\windows\\microsoft.net\\framework64\\v2.0.50727',
  'c:\\windows\\microsoft.net\\framework64\\v4.0.30319',
];

/**
 * .NET Framework assemblies ("System.Drawing.dll", "Microsoft.CSharp.dll"): part of every Windows
 * installation, named in advisories where malware loads them.
 */
export const DOTNET_ASSEMBLY =
  /^(?:system|microsoft|mscorlib|presentationcore|presentationframework|windowsbase)(?:\.[\w-]+)*\.dll$/i;

/**
 * Registry keys every Windows host has, where attackers add or change values: autostart, services,
 * logon, credential and remote desktop settings. The key alone names the place, not the actors'
 * entry in it (a truncated key, "HKLM\SOFTWARE\Microsoft\Windows", names even less). Lower case,
 * with short hive names.
 */
export const WINDOWS_KEYS: readonly string[] = [
  'hklm\\software\\microsoft\\windows\\currentversion\\run',
  'hklm\\software\\microsoft\\windows\\currentversion\\runonce',
  'hklm\\software\\microsoft\\windows\\currentversion\\runservices',
  'hklm\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run',
  'hklm\\software\\microsoft\\windows\\currentversion\\policies\\system',
  'hklm\\software\\microsoft\\windows\\currentversion\\explorer\\shell folders',
  'hklm\\software\\microsoft\\windows\\currentversion\\explorer\\user shell folders',
  'hklm\\software\\wow6432node\\microsoft\\windows\\currentversion\\run',
  'hklm\\software\\wow6432node\\microsoft\\windows\\currentversion\\runonce',
  'hklm\\software\\microsoft\\windows nt\\currentversion\\winlogon\\specialaccounts\\userlist',
  'hklm\\software\\microsoft\\windows nt\\currentversion\\image file execution options',
  'hklm\\software\\microsoft\\windows nt\\currentversion\\silentprocessexit',
  'hklm\\software\\microsoft\\windows nt\\currentversion\\windows',
  'hklm\\software\\microsoft\\windows defender',
  'hklm\\software\\policies\\microsoft\\windows defender',
  'hklm\\system\\currentcontrolset\\services',
  'hklm\\system\\currentcontrolset\\control\\lsa',
  'hklm\\system\\currentcontrolset\\control\\securityproviders\\wdigest',
  'hklm\\system\\currentcontrolset\\control\\terminal server',
  'hklm\\system\\currentcontrolset\\control\\terminal server\\winstations\\rdp-tcp',
  'hklm\\system\\currentcontrolset\\control\\session manager',
  'hklm\\system\\currentcontrolset\\control\\safeboot',
  'hklm\\system\\currentcontrolset\\control\\print\\monitors',
  'hkcu\\software\\microsoft\\windows\\currentversion\\run',
  'hkcu\\software\\microsoft\\windows\\currentversion\\runonce',
  'hkcu\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run',
  'hkcu\\software\\microsoft\\windows\\currentversion\\explorer\\shell folders',
  'hkcu\\software\\microsoft\\windows\\currentversion\\explorer\\user shell folders',
  'hkcu\\software\\microsoft\\windows nt\\currentversion\\winlogon',
  'hkcu\\software\\microsoft\\windows nt\\currentversion\\windows',
  'hkcu\\environment',
  'hkcu\\software\\classes\\mscfile\\shell\\open\\command',
  'hkcu\\software\\classes\\ms-settings\\shell\\open\\command',
];
