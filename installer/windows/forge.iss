; Forge for Windows: installs forge.exe (CLI and hub) and forge-desktop.exe (tray app)
; for the current user, no administrator rights needed.
; This file is a template: installer/buildinfo.py fills in the version and folders.
;   python installer\buildinfo.py iss --dist dist --out build\forge.iss
;   iscc build\forge.iss
#define AppName "Forge"
#define AppVersion "${version}"
#define DistDir "${dist_dir}"

[Setup]
AppId={{8D4C9F55-3B1E-4F7A-9E0B-6C1F0A2B7D31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Forge
DefaultDirName={autopf}\Forge
DefaultGroupName=Forge
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=${output_dir}
OutputBaseFilename=forge-{#AppVersion}-windows-setup
SetupIconFile=${icon}
UninstallDisplayIcon={app}\${desktop_exe}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesEnvironment=yes
CloseApplications=yes

[Tasks]
Name: "autostart"; Description: "Start Forge when I sign in"; GroupDescription: "Startup:"
Name: "addtopath"; Description: "Add the forge command to my PATH"; GroupDescription: "Command line:"

[Files]
Source: "{#DistDir}\${cli_exe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#DistDir}\${desktop_exe}"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\Forge"; Filename: "{app}\${desktop_exe}"
Name: "{group}\Uninstall Forge"; Filename: "{uninstallexe}"

[Registry]
; The same value `forge desktop --install-autostart` writes, so either can remove it.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "Forge Desktop"; ValueData: """{app}\${desktop_exe}"""; Flags: uninsdeletevalue; Tasks: autostart
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}')); Tasks: addtopath

[Run]
Filename: "{app}\${desktop_exe}"; Description: "Start Forge now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\taskkill.exe"; Parameters: "/im ${desktop_exe} /f"; Flags: runhidden; RunOnceId: "StopForgeDesktop"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
